"""Trigram (pg_trgm) GIN indexes for substring search on PostgreSQL; nothing elsewhere.

`Account.search_text` holds lower-cased names, username, phone, UID and emails, so one
`LIKE '%term%'` is answered from one index at millions of rows. Emails get their own
trigram index on lower(value) for email substring filters.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS account_search_text_trgm ON accounts_account USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS account_email_value_trgm ON accounts_accountemail USING gin (lower(value) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS account_email_value_trgm",
    "DROP INDEX IF EXISTS account_search_text_trgm",
]


def _run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_identities_consents_search")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
