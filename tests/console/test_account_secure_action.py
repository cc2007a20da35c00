"""The console's "Secure account" action: it asks for the options and a reason, repeats them
back, then runs the securing service once; only Lead and Admin may run it, and a refused
attempt changes nothing."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from portal.audit import Actor
from portal.crypto import encrypt
from portal.models import AuditEvent
from security.commands import BackupCodesGenerate
from security.models import BackupCode, PasskeyCredential, PushDevice, TotpFactor
from tests.console.test_account_actions import _make_session, _make_totp, act, detail, state, url
from tests.factories import AccountFactory
from tokens.models import TokenFamily

pytestmark = pytest.mark.django_db

ALL_OPTIONS = {
    "revoke_sessions": "on",
    "remove_passkeys": "on",
    "remove_push_devices": "on",
    "reset_second_factors": "on",
    "require_password_change": "on",
}


@pytest.fixture
def client_for(make_staff, console_client, tenant):
    def make(role, perms=None):
        return console_client(make_staff(role, tenant, perms))

    return make


@pytest.fixture
def victim(tenant):
    account = AccountFactory(tenant=tenant, email="victim@example.com")
    account.password = make_password("Old-passw0rd-known")
    account.save()
    _make_session(tenant, account)
    _make_session(tenant, account)
    _make_totp(tenant, account)
    from security.services import backup_codes_generate

    backup_codes_generate(
        BackupCodesGenerate(), tenant=tenant, actor=Actor.system("test"), account=account
    )
    old = PasskeyCredential.objects.create(
        tenant=tenant, account=account, credential_id="old-key", public_key="k"
    )
    PasskeyCredential.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=30))
    PasskeyCredential.objects.create(
        tenant=tenant, account=account, credential_id="new-key", public_key="k"
    )
    PushDevice.objects.create(
        tenant=tenant, account=account, device_token_encrypted=encrypt("d"), name="attacker"
    )
    return account


def devices(account):
    return (
        sorted(
            PasskeyCredential.objects.filter(account=account).values_list(
                "credential_id", flat=True
            )
        ),
        PushDevice.objects.filter(account=account).count(),
    )


def full_state(account):
    return {**state(account), "devices": devices(account)}


@pytest.mark.parametrize("role", ["Lead", "Admin"])
def test_lead_and_admin_secure_the_account_after_confirming(client_for, tenant, victim, role):
    client = client_for(role)
    assert 'id="action-secure"' in detail(client, victim)
    form = client.get(url(victim, "secure")).content.decode()
    for name in (*ALL_OPTIONS, "devices_added_since", "reason", "ticket"):
        assert f'name="{name}"' in form
    assert 'type="checkbox"' in form

    before = full_state(victim)
    review = client.post(
        url(victim, "secure"),
        {**ALL_OPTIONS, "reason": "customer reports takeover", "ticket": "SUP-9"},
    )
    assert review.status_code == 200 and "Are you sure?" in review.content.decode()
    assert "customer reports takeover" in review.content.decode()
    assert full_state(victim) == before  # nothing runs before the confirmation

    response = act(
        client, victim, "secure", reason="customer reports takeover", ticket="SUP-9", **ALL_OPTIONS
    )

    assert response.status_code == 302
    assert not TokenFamily.objects.filter(account=victim, revoked_at__isnull=True).exists()
    assert devices(victim) == ([], 0)
    assert not TotpFactor.objects.filter(account=victim).exists()
    assert not BackupCode.objects.filter(account=victim).exists()
    victim.refresh_from_db()
    assert victim.password_change_required is True
    event = AuditEvent.objects.get(action="account.secured", subject_uid=victim.uid)
    assert (event.reason, event.ticket, event.actor_type) == (
        "customer reports takeover",
        "SUP-9",
        "staff",
    )
    assert event.diff["passkeys_removed"] == [None, 2]


def test_devices_since_removes_only_the_newer_devices(client_for, tenant, victim):
    since = (timezone.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = act(
        client_for("Lead"),
        victim,
        "secure",
        reason="new devices are the attacker's",
        remove_passkeys="on",
        remove_push_devices="on",
        devices_added_since=since,
    )
    assert response.status_code == 302
    assert devices(victim) == (["old-key"], 0)
    # Options left unchecked are left alone.
    assert TokenFamily.objects.filter(account=victim, revoked_at__isnull=True).count() == 2
    assert TotpFactor.objects.filter(account=victim).exists()
    victim.refresh_from_db()
    assert victim.password_change_required is False
    event = AuditEvent.objects.get(action="account.secured")
    assert event.diff["revoke_sessions"] == [None, False]


def test_the_confirmation_repeats_the_options(client_for, victim):
    page = (
        client_for("Admin")
        .post(
            url(victim, "secure"),
            {
                "revoke_sessions": "on",
                "devices_added_since": "2030-01-02T03:04",
                "reason": "checking",
            },
        )
        .content.decode()
    )
    assert "Are you sure?" in page
    summary = page.split('id="action-summary"')[1].split("</dl>")[0]
    assert "Revoke every session" in summary and "2030-01-02" in summary


@pytest.mark.parametrize("role", ["Viewer", "Agent"])
def test_viewer_and_agent_may_not_secure_and_nothing_changes(client_for, victim, role):
    client = client_for(role)
    before = full_state(victim)
    assert 'id="action-secure"' not in detail(client, victim)
    assert client.get(url(victim, "secure")).status_code == 403
    assert act(client, victim, "secure", **ALL_OPTIONS).status_code == 403
    assert full_state(victim) == before
    assert not AuditEvent.objects.filter(action="account.secured").exists()


def test_a_lead_without_the_security_permission_may_not_secure(client_for, victim):
    client = client_for("Lead", perms=["view_accounts", "manage_accounts", "manage_roles"])
    before = full_state(victim)
    assert act(client, victim, "secure", **ALL_OPTIONS).status_code == 403
    assert full_state(victim) == before


def test_a_missing_reason_is_refused_and_changes_nothing(client_for, victim):
    before = full_state(victim)
    response = act(client_for("Admin"), victim, "secure", reason="", **ALL_OPTIONS)
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert full_state(victim) == before


def test_a_blank_reason_is_refused_and_changes_nothing(client_for, victim):
    before = full_state(victim)
    response = act(client_for("Admin"), victim, "secure", reason="    ", **ALL_OPTIONS)
    assert response.status_code == 400
    assert full_state(victim) == before


def test_choosing_nothing_is_refused_and_changes_nothing(client_for, victim):
    before = full_state(victim)
    response = act(client_for("Admin"), victim, "secure", reason="nothing chosen")
    assert response.status_code == 400
    assert "Choose at least one" in response.content.decode()
    assert full_state(victim) == before


def test_a_malformed_date_is_refused_and_changes_nothing(client_for, victim):
    before = full_state(victim)
    response = act(
        client_for("Admin"),
        victim,
        "secure",
        reason="bad date",
        devices_added_since="soon",
        **ALL_OPTIONS,
    )
    assert response.status_code == 400
    assert full_state(victim) == before
