"""The sign-in lock columns of the account move to security's AccountLockout and back:
security 0006 copies the locks, accounts 0008 drops the columns; unapplied, both restore
them."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("accounts", "0007_email_recovery_after"),
    ("security", "0005_remove_duoconfig_ca_bundle"),
]
UNTIL = datetime(2030, 1, 1, tzinfo=UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return MigrationExecutor(connection).loader.project_state(targets or None).apps


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_locks_move_to_security_and_back():
    apps = _migrate(BEFORE)
    try:
        tenant = apps.get_model("portal", "Tenant").objects.create(
            name="T", slug="t-lock", api_key="k-lock", settings={}
        )
        Account = apps.get_model("accounts", "Account")
        for uid, locked, kind, until in [
            ("policy", True, "FailedLoginAttemptsExceeded", UNTIL),
            ("untyped", True, "", None),
            ("free", False, "", None),
        ]:
            Account.objects.create(
                tenant=tenant,
                uid=uid,
                provider_id=uid,
                is_login_locked=locked,
                login_locked_type=kind,
                login_locked_until=until,
            )
        apps = _migrate(None)
        AccountLockout = apps.get_model("security", "AccountLockout")
        assert sorted(
            AccountLockout.objects.values_list(
                "account__uid", "tenant_id", "locked_type", "locked_until"
            )
        ) == [
            ("policy", tenant.pk, "FailedLoginAttemptsExceeded", UNTIL),
            ("untyped", tenant.pk, "ManualLock", None),
        ]
        apps = _migrate(BEFORE)
        Account = apps.get_model("accounts", "Account")
        assert sorted(
            Account.objects.values_list(
                "uid", "is_login_locked", "login_locked_type", "login_locked_until"
            )
        ) == [
            ("free", False, "", None),
            ("policy", True, "FailedLoginAttemptsExceeded", UNTIL),
            ("untyped", True, "ManualLock", None),
        ]
    finally:
        _migrate(None)
