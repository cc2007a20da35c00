"""Audit events: the erasure mark, and the two narrow exceptions to the append-only trigger.

The trigger of 0002 refuses every UPDATE and DELETE. This one lets through, and only in a
transaction that set `portal.audit_maintenance` (`SET LOCAL`, portal/retention.py and
portal/erasure.py):

- `retention`: DELETE (purging events past the tenant's retention);
- `erasure`: an UPDATE of a not-yet-erased row that sets `erased_at`, may only clear `ip`
  and `user_agent`, keeps the keys of `diff` (its values become the erased marker), and
  changes no other column.

Everything else still raises. SQLite has no trigger: nothing to do there.
"""

from django.db import migrations, models

REPLACE = """
CREATE OR REPLACE FUNCTION portal_auditevent_refuse_change() RETURNS trigger AS $$
DECLARE
    maintenance text := coalesce(current_setting('portal.audit_maintenance', true), '');
    personal text[] := ARRAY['diff', 'ip', 'user_agent', 'erased_at'];
BEGIN
    IF TG_OP = 'DELETE' AND maintenance = 'retention' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND maintenance = 'erasure'
        AND OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
        AND (to_jsonb(NEW) - personal) = (to_jsonb(OLD) - personal)
        AND (NEW.ip IS NULL OR NEW.ip = OLD.ip)
        AND (NEW.user_agent = '' OR NEW.user_agent = OLD.user_agent)
        AND jsonb_typeof(NEW.diff) = 'object' AND jsonb_typeof(OLD.diff) = 'object'
        AND ARRAY(SELECT jsonb_object_keys(NEW.diff) ORDER BY 1)
            = ARRAY(SELECT jsonb_object_keys(OLD.diff) ORDER BY 1)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

# The function of 0002, which refuses every change.
RESTORE = """
CREATE OR REPLACE FUNCTION portal_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REPLACE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(RESTORE, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0012_reason_presets"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="erased_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
