"""A time-boxed grant that ends between opening an action dialog and confirming it: the
confirmation is refused and nothing changes. A break-glass grant never bypasses an approval.
Real services and the console's own views, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from approvals.commands import ApprovalApprove
from approvals.models import ApprovalRequest
from approvals.services import approval_approve
from portal.access_grants import access_grant_create, access_grant_revoke, break_glass_grant
from portal.models import AuditEvent
from portal.tenant_commands import AccessGrantCreate, AccessGrantRevoke, BreakGlassGrant
from security.models import TotpFactor
from tests.console.conftest import console_client  # noqa: F401
from tests.console.test_account_actions import state
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tenant, make_staff, console_client):  # noqa: F811
    tenant.settings = {**tenant.settings, "approval_gates": []}
    tenant.save()
    # An agent without any permission on the tenant: only a grant lets them near the account.
    agent = make_staff("Agent", tenant, perms=[], username="ann.agent")
    lead = make_staff("Lead", tenant, username="lee.lead")
    account = AccountFactory(tenant=tenant, email="maria@example.com")
    return {
        "agent": agent,
        "lead": lead,
        "account": account,
        "client": console_client(agent),
        "block": reverse("console:account_action", args=[tenant.slug, account.uid, "block"]),
    }


def _grant(tenant, setup, *, minutes: int):
    return access_grant_create(
        AccessGrantCreate(
            user_id=setup["agent"].pk,
            uids=(setup["account"].uid,),
            scope="act",
            ends_at=timezone.now() + timedelta(minutes=minutes),
            ticket="SUP-88",
            reason="customer on the phone",
        ),
        tenant=tenant,
        granter=setup["lead"],
    )


def _confirm(setup):
    return setup["client"].post(
        setup["block"],
        {"reason": "fraud reported", "ticket": "SUP-88", "confirmed": "True"},
        HTTP_HX_REQUEST="true",
    )


def test_a_grant_that_ends_while_the_dialog_is_open_refuses_the_confirmation(tenant, setup):
    grant = _grant(tenant, setup, minutes=5)
    dialog = setup["client"].get(setup["block"], HTTP_HX_REQUEST="true")
    assert dialog.status_code == 200 and b"confirmed" in dialog.content
    before, events = state(setup["account"]), AuditEvent.objects.count()

    with freeze_time(grant.ends_at + timedelta(seconds=1)):
        response = _confirm(setup)

    assert response.status_code == 404
    assert state(setup["account"]) == before
    assert AuditEvent.objects.count() == events
    setup["account"].refresh_from_db()
    assert setup["account"].is_active


def test_the_same_confirmation_runs_while_the_grant_is_live(tenant, setup):
    """The control for the test above: only the grant's end makes the difference."""
    grant = _grant(tenant, setup, minutes=5)
    with freeze_time(grant.ends_at - timedelta(seconds=5)):
        response = _confirm(setup)
    assert response.status_code == 200, response.content
    setup["account"].refresh_from_db()
    assert not setup["account"].is_active
    assert AuditEvent.objects.filter(action="account.blocked").count() == 1


def test_a_grant_revoked_while_the_dialog_is_open_refuses_the_confirmation(tenant, setup):
    grant = _grant(tenant, setup, minutes=60)
    assert setup["client"].get(setup["block"], HTTP_HX_REQUEST="true").status_code == 200
    access_grant_revoke(
        AccessGrantRevoke(grant_id=grant.pk, reason="ticket closed"),
        tenant=tenant,
        user=setup["lead"],
    )
    before, events = state(setup["account"]), AuditEvent.objects.count()

    response = _confirm(setup)

    assert response.status_code == 404
    assert state(setup["account"]) == before
    assert AuditEvent.objects.count() == events
    assert not AuditEvent.objects.filter(action="account.blocked").exists()


def test_a_break_glass_grant_never_bypasses_an_approval(tenant, setup):
    tenant.settings = {
        key: value for key, value in tenant.settings.items() if key != "approval_gates"
    } | {"break_glass_allowed": True}
    tenant.save()
    account = setup["account"]
    TotpFactor.objects.create(tenant=tenant, account=account, confirmed=True, secret_encrypted="x")
    grant = break_glass_grant(
        BreakGlassGrant(
            uids=(account.uid,), scope="act", minutes=30, reason="account takeover in progress"
        ),
        tenant=tenant,
        user=setup["agent"],
    )
    assert grant.break_glass

    response = setup["client"].post(
        reverse("console:account_action", args=[tenant.slug, account.uid, "factor_reset"]),
        {"factor": "totp", "reason": "takeover", "ticket": "SUP-9", "confirmed": "True"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 202, response.content.decode()
    assert b"Sent for approval" in response.content
    held = ApprovalRequest.objects.get()
    assert (held.gate, held.status, held.account_uid) == ("factor.reset", "pending", account.uid)
    assert TotpFactor.objects.filter(account=account).exists()
    assert not AuditEvent.objects.filter(action="mfa_factor.reset").exists()


def _held_by_break_glass(tenant, setup):
    """A factor reset asked under a 30-minute break-glass grant, held for approval."""
    tenant.settings = {"break_glass_allowed": True}
    tenant.save()
    account = setup["account"]
    TotpFactor.objects.create(tenant=tenant, account=account, confirmed=True, secret_encrypted="x")
    grant = break_glass_grant(
        BreakGlassGrant(uids=(account.uid,), scope="act", minutes=30, reason="takeover"),
        tenant=tenant,
        user=setup["agent"],
    )
    response = setup["client"].post(
        reverse("console:account_action", args=[tenant.slug, account.uid, "factor_reset"]),
        {"factor": "totp", "reason": "takeover", "ticket": "SUP-9", "confirmed": "True"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 202
    return grant, ApprovalRequest.objects.get()


def test_a_request_held_under_a_live_grant_runs_once_a_lead_approves(tenant, setup):
    _, held = _held_by_break_glass(tenant, setup)
    approval_approve(ApprovalApprove(request_id=held.pk), tenant=tenant, approver=setup["lead"])
    held.refresh_from_db()
    assert held.status == ApprovalRequest.EXECUTED, held.failure_detail
    assert not TotpFactor.objects.filter(account=setup["account"]).exists()


def test_a_request_whose_grant_ended_before_approval_fails_cleanly(tenant, setup):
    """Both people are checked again when it runs: the grant that let the agent ask is over."""
    grant, held = _held_by_break_glass(tenant, setup)
    with freeze_time(grant.ends_at + timedelta(seconds=1)):
        approval_approve(ApprovalApprove(request_id=held.pk), tenant=tenant, approver=setup["lead"])
    held.refresh_from_db()
    assert (held.status, held.failure_code) == (
        ApprovalRequest.FAILED,
        "approval.requester_not_allowed",
    )
    assert TotpFactor.objects.filter(account=setup["account"]).exists()
    assert not AuditEvent.objects.filter(action="mfa_factor.reset").exists()
