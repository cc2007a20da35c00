"""Guided recovery in the console: opening a case, walking its checks, and the change that
follows (or waits for approval or cooling-off); who may and may not."""

import pytest
from django.urls import reverse

from accounts.models import AccountEmail
from approvals.models import ApprovalRequest
from portal import crypto
from security.models import RecoveryCase, TotpFactor
from tests.factories import AccountFactory
from tokens.models import OutboxMessage
from tokens.services.multipurpose.outbox import message_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria(tenant):
    account = AccountFactory(tenant=tenant, email="maria@example.com", first_name="Maria")
    AccountEmail.objects.filter(account=account).update(verified=True)
    TotpFactor.objects.create(
        tenant=tenant, account=account, secret_encrypted=crypto.encrypt("S" * 32), confirmed=True
    )
    return account


def _configure(tenant, **settings):
    tenant.settings = {**tenant.settings, **settings}
    tenant.save()


def _open(client, tenant, account, **data):
    data = {"purpose": "factor.reset", "factor": "totp", "reason": "lost phone", **data}
    return client.post(reverse("console:recovery_start", args=[tenant.slug, account.uid]), data)


def test_agent_walks_a_case_through_its_checks_and_the_reset_runs(
    tenant, maria, make_staff, console_client
):
    _configure(tenant, recovery_checks=["code", "document"], approval_gates=[])
    client = console_client(make_staff("Agent", tenant))
    page = client.get(reverse("console:recovery_start", args=[tenant.slug, maria.uid]))
    assert page.status_code == 200 and b"Open a case" in page.content
    opened = _open(client, tenant, maria, ticket="SUP-7")
    case = RecoveryCase.objects.get()
    assert opened.status_code == 302
    assert opened["Location"] == reverse("console:recovery_case", args=[tenant.slug, case.pk])
    url = opened["Location"]
    shown = client.get(url)
    assert b"Send a code" in shown.content and b"Make the change" not in shown.content
    client.post(url, {"step": "send_code", "channel": "email"})
    code = message_context(OutboxMessage.objects.get(template="generic"))["code"]
    wrong = client.post(url, {"step": "verify_code", "code": "nope"}, follow=True)
    assert b"does not match" in wrong.content
    right = client.post(url, {"step": "verify_code", "code": code}, follow=True)
    assert b"The code matches" in right.content
    client.post(url, {"step": "document", "reference": "DOC-9", "confirmed": "on"})
    ready = client.get(url)
    assert b"Make the change" in ready.content
    done = client.post(url, {"step": "proceed"}, follow=True)
    assert b"Done" in done.content
    assert not TotpFactor.objects.filter(account=maria).exists()
    assert b"recovery_case.check_passed" in done.content


def test_a_held_reset_links_to_its_approval(tenant, maria, make_staff, console_client):
    _configure(tenant, recovery_checks=["document"], approval_gates=["factor.reset"])
    client = console_client(make_staff("Agent", tenant))
    url = _open(client, tenant, maria)["Location"]
    client.post(url, {"step": "document", "reference": "DOC-9", "confirmed": "on"})
    page = client.post(url, {"step": "proceed"}, follow=True)
    request = ApprovalRequest.objects.get()
    approval = reverse("console:approval_detail", args=[tenant.slug, request.pk])
    assert approval.encode() in page.content and b"second person" in page.content
    assert b'id="recovery-approval-status">pending<' in page.content
    assert TotpFactor.objects.filter(account=maria).exists()
    lead = console_client(make_staff("Lead", tenant))
    lead.post(approval, {"decision": "approve"})
    assert not TotpFactor.objects.filter(account=maria).exists()
    assert b'id="recovery-approval-status">executed<' in client.get(url).content


def test_with_cooling_off_the_case_is_scheduled(tenant, maria, make_staff, console_client):
    _configure(tenant, recovery_checks=["callback"], recovery_cooling_off_hours=12)
    client = console_client(make_staff("Agent", tenant))
    url = _open(client, tenant, maria)["Location"]
    client.post(url, {"step": "callback", "phone": "+14155550100", "confirmed": "on"})
    page = client.post(url, {"step": "proceed"}, follow=True)
    assert b"Scheduled" in page.content and b"Runs at" in page.content
    assert OutboxMessage.objects.filter(template="recoveryscheduled").count() == 1
    assert TotpFactor.objects.filter(account=maria).exists()


def test_an_unticked_attestation_is_refused_with_a_sentence(
    tenant, maria, make_staff, console_client
):
    _configure(tenant, recovery_checks=["document"])
    client = console_client(make_staff("Agent", tenant))
    url = _open(client, tenant, maria)["Location"]
    page = client.post(url, {"step": "document", "reference": "DOC-9"}, follow=True)
    assert page.status_code == 200 and b"Tick the box" in page.content
    assert RecoveryCase.objects.get().checks_passed == {}


def test_bad_open_input_is_a_400_with_the_field_named(tenant, maria, make_staff, console_client):
    client = console_client(make_staff("Agent", tenant))
    page = _open(client, tenant, maria, factor="")
    assert page.status_code == 400 and b"Choose a second factor" in page.content
    page = _open(client, tenant, maria, purpose="email.change", new_email="")
    assert page.status_code == 400 and b"valid email" in page.content
    assert not RecoveryCase.objects.exists()


def test_an_unknown_case_is_404(tenant, make_staff, console_client):
    client = console_client(make_staff("Agent", tenant))
    assert client.get(reverse("console:recovery_case", args=[tenant.slug, 999])).status_code == 404


def test_agent_without_security_permission_cannot_open_a_factor_reset(
    tenant, maria, make_staff, console_client
):
    agent = make_staff("Agent", tenant, perms=["view_accounts", "manage_accounts"])
    client = console_client(agent)
    assert _open(client, tenant, maria).status_code == 403
    assert not RecoveryCase.objects.exists()


def test_an_admin_chooses_the_checks_and_cooling_off_in_the_tenant_settings(
    tenant, make_staff, console_client
):
    from portal.models import TENANT_SETTING_DEFAULTS

    admin = console_client(make_staff("Admin", tenant))
    url = reverse("console:tenant_settings", args=[tenant.slug])
    page = admin.get(reverse("console:tenant_detail", args=[tenant.slug]))
    assert b"Guided recovery" in page.content and b"Cooling-off (hours)" in page.content
    data = dict(TENANT_SETTING_DEFAULTS)
    data.update(
        recovery_checks=["answers", "callback"], recovery_cooling_off_hours=48, reason="policy"
    )
    assert admin.post(url, data).status_code == 302
    tenant.refresh_from_db()
    assert tenant.settings == {
        "recovery_checks": ["answers", "callback"],
        "recovery_cooling_off_hours": 48,
    }


def test_the_account_page_links_to_guided_recovery_for_who_may_reset(
    tenant, maria, make_staff, console_client
):
    link = reverse("console:recovery_start", args=[tenant.slug, maria.uid]).encode()
    page = reverse("console:account_detail", args=[tenant.slug, maria.uid])
    assert link in console_client(make_staff("Agent", tenant)).get(page).content
    assert link not in console_client(make_staff("Viewer", tenant)).get(page).content
