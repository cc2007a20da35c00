"""A B-tree on (tenant, lower(email) text_pattern_ops) on PostgreSQL; nothing elsewhere.

It answers the `email_prefix` search filter (`lower(value) LIKE 'jane.d%'`) with an index
range scan whatever the database collation; the trigram index of 0003 cannot, because the
trigrams of a typical prefix occur in most rows. Built concurrently, so writes to emails
go on while it is built on a large table.
"""

from django.db import migrations

FORWARD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS account_email_value_prefix "
    "ON accounts_accountemail (tenant_id, lower(value) text_pattern_ops)",
]
BACKWARD = ["DROP INDEX CONCURRENTLY IF EXISTS account_email_value_prefix"]


def _run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return apply


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction
    dependencies = [("accounts", "0004_listing_indexes")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
