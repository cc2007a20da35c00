"""Sign-in locks move from the account's columns to security's own table: one row per
locked account. The accounts migration that drops the columns runs after this one."""

import django.db.models.deletion
from django.db import migrations, models


def locks_copy(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    AccountLockout = apps.get_model("security", "AccountLockout")
    locked = Account.objects.filter(is_login_locked=True).values_list(
        "id", "tenant_id", "login_locked_type", "login_locked_until"
    )
    AccountLockout.objects.bulk_create(
        [
            AccountLockout(
                account_id=account_id,
                tenant_id=tenant_id,
                locked_type=locked_type or "ManualLock",
                locked_until=until,
            )
            for account_id, tenant_id, locked_type, until in locked.iterator()
        ],
        batch_size=1000,
    )


def locks_copy_back(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    AccountLockout = apps.get_model("security", "AccountLockout")
    for row in AccountLockout.objects.iterator():
        Account.objects.filter(pk=row.account_id).update(
            is_login_locked=True,
            login_locked_type=row.locked_type,
            login_locked_until=row.locked_until,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_email_recovery_after"),
        ("portal", "0001_initial"),
        ("security", "0005_remove_duoconfig_ca_bundle"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccountLockout",
            fields=[
                (
                    "account",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="login_lockout",
                        serialize=False,
                        to="accounts.account",
                    ),
                ),
                ("locked_type", models.CharField(max_length=40)),
                ("locked_until", models.DateTimeField(blank=True, null=True)),
                ("created", models.DateTimeField(auto_now_add=True)),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="portal.tenant",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["tenant", "-account"], name="lockout_tenant_newest")
                ],
            },
        ),
        migrations.RunPython(locks_copy, locks_copy_back),
    ]
