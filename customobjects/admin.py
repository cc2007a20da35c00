from django.contrib import admin, messages

from customobjects import services
from customobjects.commands import ObjectTypeCreate, ObjectTypeDelete, ObjectTypeUpdate
from customobjects.models import CustomObjectRecord, CustomObjectType
from portal.audit import Actor
from portal.errors import DomainError


@admin.register(CustomObjectType)
class CustomObjectTypeAdmin(admin.ModelAdmin):
    """Writes go through the services, so the admin is audited like the API."""

    list_display = (
        "name",
        "tenant",
        "max_bytes",
        "max_depth",
        "max_records_per_account",
        "modified",
    )
    list_filter = ("tenant",)
    search_fields = ("name", "tenant__name")
    readonly_fields = ("created", "modified")

    def save_model(self, request, obj, form, change):
        actor = Actor.staff(request.user)
        fields = {
            key: form.cleaned_data[key] for key in services.TYPE_FIELDS if key in form.cleaned_data
        }
        try:
            if change:
                changes = {k: v for k, v in fields.items() if k in form.changed_data}
                saved = services.object_type_update(
                    ObjectTypeUpdate(changes=changes),
                    tenant=obj.tenant,
                    actor=actor,
                    object_type=obj,
                )
            else:
                name = fields.pop("name")
                schema = fields.pop("schema", None)
                saved = services.object_type_create(
                    ObjectTypeCreate(name=name, schema=schema, limits=fields),
                    tenant=obj.tenant,
                    actor=actor,
                )
        except DomainError as exc:
            self.message_user(request, f"Not saved: {exc.sentence()}", messages.ERROR)
            return
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.object_type_delete(
            ObjectTypeDelete(force=True),
            tenant=obj.tenant,
            actor=Actor.staff(request.user),
            object_type=obj,
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(CustomObjectRecord)
class CustomObjectRecordAdmin(admin.ModelAdmin):
    """Records are read-only here; they change through the API, which validates them."""

    list_display = ("record_id", "object_type", "account", "version", "modified")
    list_filter = ("object_type__tenant", "object_type")
    search_fields = ("record_id", "account__uid")
    readonly_fields = (
        "tenant",
        "object_type",
        "account",
        "record_id",
        "data",
        "is_active",
        "version",
        "created",
        "modified",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
