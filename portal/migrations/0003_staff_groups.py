from django.db import migrations

STAFF_GROUPS = ("Viewer", "Agent", "Lead", "Admin")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in STAFF_GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=STAFF_GROUPS, user__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("portal", "0002_audit_append_only"),
    ]

    operations = [
        migrations.RunPython(create_groups, remove_groups),
    ]
