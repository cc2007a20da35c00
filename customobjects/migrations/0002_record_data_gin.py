"""GIN index (jsonb_path_ops) on record data for `@>` containment queries; PostgreSQL only."""

from django.db import migrations

INDEX = "customobject_rec_data_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("customobjects", "CustomObjectRecord")._meta.db_table
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "{table}" USING gin ("data" jsonb_path_ops)'
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [("customobjects", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
