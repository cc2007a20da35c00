"""The sign-in lock columns leave the account: security keeps locks in its own table
(security 0006 copies them there first)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_email_recovery_after"),
        ("security", "0006_accountlockout"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="account", name="account_tenant_locked"),
        migrations.RemoveField(model_name="account", name="is_login_locked"),
        migrations.RemoveField(model_name="account", name="login_locked_type"),
        migrations.RemoveField(model_name="account", name="login_locked_until"),
    ]
