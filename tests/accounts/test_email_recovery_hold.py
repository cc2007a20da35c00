"""An email added to an existing account cannot receive a forgot-password token for the
tenant's `new_email_recovery_hold_hours`, and the primary address is told of the addition."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import AccountEmail
from tests.factories import AccountFactory
from tokens.models import MultipurposeToken, OutboxMessage

pytestmark = pytest.mark.django_db

M = "/identity/v2/manage/account"


def forgot(lr, email):
    return lr.post(f"{M}/forgot/token", {"email": email})


def test_an_added_email_waits_out_the_hold_before_it_can_reset_the_password(lr, tenant):
    account = AccountFactory(tenant=tenant, email="owner@example.com")
    added = lr.put(
        f"{M}/{account.uid}/email", {"Email": [{"Type": "Secondary", "Value": "new@example.com"}]}
    )
    assert added.status_code == 200, added.json()

    refused = forgot(lr, "new@example.com")
    assert refused.status_code == 400
    assert refused.json()["ErrorCode"] == 1134
    assert not MultipurposeToken.objects.filter(destination="new@example.com").exists()
    # The address the account had before is not held.
    assert forgot(lr, "owner@example.com").status_code == 200

    hold = timedelta(hours=tenant.setting("new_email_recovery_hold_hours"), seconds=1)
    with freeze_time(timezone.now() + hold):
        assert forgot(lr, "new@example.com").status_code == 200


def test_the_primary_address_is_told_when_an_email_is_added(lr, tenant):
    account = AccountFactory(tenant=tenant, email="owner@example.com")
    lr.put(
        f"{M}/{account.uid}/email",
        {"Email": [{"Type": "Secondary", "Value": "attacker@example.com"}]},
    )
    notice = OutboxMessage.objects.get(account=account, template="emailadded")
    assert notice.recipient == "owner@example.com"


def test_replacing_the_primary_address_tells_the_old_one_and_holds_the_new_one(lr, tenant):
    account = AccountFactory(tenant=tenant, email="owner@example.com")
    changed = lr.put(
        f"{M}/{account.uid}", {"Email": [{"Type": "Primary", "Value": "taken-over@example.com"}]}
    )
    assert changed.status_code == 200, changed.json()
    assert (
        OutboxMessage.objects.get(account=account, template="emailadded").recipient
        == "owner@example.com"
    )
    assert forgot(lr, "taken-over@example.com").json()["ErrorCode"] == 1134


def test_emails_an_account_is_created_with_are_not_held(lr, tenant):
    created = lr.post(
        M,
        {
            "Email": [{"Type": "Primary", "Value": "fresh@example.com"}],
            "Password": "Fresh-passw0rd!",
        },
    )
    assert created.status_code == 200, created.json()
    assert AccountEmail.objects.get(value="fresh@example.com").recovery_after is None
    assert forgot(lr, "fresh@example.com").status_code == 200
    assert not OutboxMessage.objects.filter(template="emailadded").exists()
