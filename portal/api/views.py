from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from portal.lrapi.views import LRAPIView
from portal.models import TENANT_SETTING_DEFAULTS


class TenantDetailView(LRAPIView):
    """The calling tenant, as its credential sees it."""

    section = "native"

    @extend_schema(
        operation_id="tenant_retrieve",
        responses=inline_serializer(
            "Tenant",
            {
                "name": serializers.CharField(),
                "slug": serializers.CharField(),
                "api_key": serializers.CharField(),
                "created": serializers.DateTimeField(),
                "settings": serializers.DictField(),
                "credential": serializers.DictField(),
            },
        ),
    )
    def get(self, request):
        tenant = self.tenant
        credential = self.principal.credential
        return self.respond(
            {
                "name": tenant.name,
                "slug": tenant.slug,
                "api_key": tenant.api_key,
                "created": tenant.created.isoformat(),
                "settings": {name: tenant.setting(name) for name in TENANT_SETTING_DEFAULTS},
                "credential": {
                    "id": credential.pk,
                    "label": credential.label,
                    "scopes": credential.scopes,
                    "expires_at": credential.expires_at.isoformat() if credential.expires_at else None,
                    "authenticated_via": self.principal.via,
                },
            }
        )
