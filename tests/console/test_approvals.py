"""The approvers' queue and a request's page: what runs, the decision, the requester's
withdrawal, and the messages a refused decision leaves."""

import pytest
from django.urls import reverse

from accounts.commands import AccountDelete
from accounts.models import Account
from approvals.commands import ApprovalRequestCreate
from approvals.models import ApprovalRequest
from approvals.services import approval_request
from portal.audit import Actor
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def asked(tenant, make_staff):
    admin = make_staff("Admin", tenant, username="ann.admin")
    account = AccountFactory(tenant=tenant, email="maria@example.com")
    request = approval_request(
        ApprovalRequestCreate(
            gate="account.delete",
            command=AccountDelete(reason="erasure").to_json(seal=True),
            account_uid=account.uid,
            summary="Delete the account of maria@example.com",
            reason="erasure request",
            ticket="GDPR-4",
        ),
        tenant=tenant,
        actor=Actor.staff(admin),
    )
    return {"admin": admin, "account": account, "request": request}


def _detail(tenant, request):
    return reverse("console:approval_detail", args=[tenant.slug, request.pk])


def test_the_queue_lists_pending_requests_with_who_and_why(
    tenant, asked, make_staff, console_client
):
    client = console_client(make_staff("Lead", tenant))
    page = client.get(reverse("console:approvals"))
    assert page.status_code == 200
    assert b"Delete the account of maria@example.com" in page.content
    assert b"ann.admin" in page.content and b"GDPR-4" in page.content
    decided = client.get(reverse("console:approvals") + "?status=denied")
    assert b"maria@example.com" not in decided.content


def test_a_lead_approves_and_the_command_runs(tenant, asked, make_staff, console_client):
    client = console_client(make_staff("Lead", tenant, username="lee.lead"))
    page = client.get(_detail(tenant, asked["request"]))
    assert b"Approve and run" in page.content and b"account.delete" in page.content
    response = client.post(_detail(tenant, asked["request"]), {"decision": "approve"}, follow=True)
    assert b"It ran." in response.content
    assert not Account.objects.filter(pk=asked["account"].pk).exists()
    asked["request"].refresh_from_db()
    assert asked["request"].decided_by_label == "lee.lead"


def test_the_requester_sees_no_decision_only_withdrawal(tenant, asked, console_client):
    client = console_client(asked["admin"])
    page = client.get(_detail(tenant, asked["request"]))
    assert b"Approve and run" not in page.content and b"Withdraw my request" in page.content
    # Forcing the decision anyway: the service refuses, nothing runs.
    response = client.post(_detail(tenant, asked["request"]), {"decision": "approve"}, follow=True)
    assert b"Someone other than the requester" in response.content
    assert Account.objects.filter(pk=asked["account"].pk).exists()
    client.post(_detail(tenant, asked["request"]), {"decision": "cancel"})
    asked["request"].refresh_from_db()
    assert asked["request"].status == ApprovalRequest.CANCELLED


def test_an_agent_cannot_decide(tenant, asked, make_staff, console_client):
    client = console_client(make_staff("Agent", tenant))
    page = client.get(_detail(tenant, asked["request"]))
    assert page.status_code == 200 and b"Approve and run" not in page.content
    assert (
        client.post(_detail(tenant, asked["request"]), {"decision": "approve"}).status_code == 403
    )
    assert Account.objects.filter(pk=asked["account"].pk).exists()


def test_another_tenants_request_is_not_found(
    tenant, asked, make_staff, console_client, other_tenant
):
    client = console_client(make_staff("Lead", other_tenant))
    assert client.get(_detail(tenant, asked["request"])).status_code == 404
    assert client.get(_detail(other_tenant, asked["request"])).status_code == 404


def test_a_gated_console_action_is_sent_for_approval_and_runs_once_approved(
    tenant, make_staff, console_client
):
    from security.models import TotpFactor

    account = AccountFactory(tenant=tenant, email="maria@example.com", first_name="Maria")
    TotpFactor.objects.create(tenant=tenant, account=account, confirmed=True, secret_encrypted="x")
    agent = make_staff("Agent", tenant, username="ann.agent")
    client = console_client(agent)
    url = reverse("console:account_action", args=[tenant.slug, account.uid, "factor_reset"])
    response = client.post(
        url,
        {"factor": "totp", "reason": "lost phone", "ticket": "SUP-3", "confirmed": "True"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 202, response.content
    assert b"Sent for approval" in response.content
    request = ApprovalRequest.objects.get()
    assert (request.gate, request.status, request.account_uid) == (
        "factor.reset",
        "pending",
        account.uid,
    )
    assert "Maria" in request.summary
    assert TotpFactor.objects.filter(account=account).exists()
    lead = console_client(make_staff("Lead", tenant, username="lee.lead"))
    lead.post(_detail(tenant, request), {"decision": "approve"})
    request.refresh_from_db()
    assert request.status == ApprovalRequest.EXECUTED, request.failure_detail
    assert not TotpFactor.objects.filter(account=account).exists()


def test_a_time_boxed_grant_lets_an_agent_act_on_one_account_only(
    tenant, make_staff, console_client
):
    from datetime import timedelta

    from django.utils import timezone
    from freezegun import freeze_time

    from portal.access_grants import access_grant_create
    from portal.tenant_commands import AccessGrantCreate

    mine = AccountFactory(tenant=tenant, email="mine@example.com")
    other = AccountFactory(tenant=tenant, email="other@example.com")
    # An agent without any permission on this tenant: they see nothing of it on their own.
    agent = make_staff("Agent", tenant, perms=[])
    client = console_client(agent)
    page = reverse("console:account_detail", args=[tenant.slug, mine.uid])
    assert client.get(page).status_code == 404
    grant = access_grant_create(
        AccessGrantCreate(
            user_id=agent.pk,
            uids=(mine.uid,),
            scope="act",
            ends_at=timezone.now() + timedelta(hours=1),
            ticket="SUP-88",
            reason="customer on the phone",
        ),
        tenant=tenant,
        granter=make_staff("Lead", tenant),
    )
    assert client.get(page).status_code == 200
    assert (
        client.get(reverse("console:account_detail", args=[tenant.slug, other.uid])).status_code
        == 404
    )
    block = reverse("console:account_action", args=[tenant.slug, mine.uid, "block"])
    response = client.post(block, {"reason": "fraud", "confirmed": "True"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert not mine.is_active
    with freeze_time(grant.ends_at + timedelta(seconds=1)):
        assert console_client(agent).get(page).status_code == 404


def test_the_access_screen_grants_lists_and_ends_access(tenant, make_staff, console_client):
    from portal.models import AccessGrant

    account = AccountFactory(tenant=tenant)
    lead = make_staff("Lead", tenant, username="lee.lead")
    agent = make_staff("Agent", tenant, perms=[], username="ann.agent")
    client = console_client(lead)
    url = reverse("console:access_grants")
    assert client.get(url).status_code == 200
    refused = client.post(
        url,
        {
            "op": "grant",
            "user": agent.pk,
            "uids": "nobody",
            "scope": "act",
            "ends_at": "2099-01-01T10:00",
            "ticket": "SUP-1",
            "reason": "x",
        },
    )
    assert refused.status_code == 409 and not AccessGrant.objects.exists()
    from datetime import timedelta

    from django.utils import timezone

    soon = (timezone.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url,
        {
            "op": "grant",
            "user": agent.pk,
            "uids": account.uid,
            "scope": "act",
            "ends_at": soon,
            "ticket": "SUP-1",
            "reason": "customer on the phone",
        },
    )
    assert response.status_code == 302
    grant = AccessGrant.objects.get()
    assert (grant.user_id, grant.uids, grant.granted_by_label) == (
        agent.pk,
        [account.uid],
        "lee.lead",
    )
    page = client.get(url).content.decode()
    assert "ann.agent" in page and "SUP-1" in page
    # An agent cannot give access; break-glass is off unless the tenant allows it.
    other = console_client(make_staff("Agent", tenant))
    assert "Give access" not in other.get(url).content.decode()
    assert "Break-glass" not in other.get(url).content.decode()
    client.post(url, {"op": "revoke", "grant": grant.pk})
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_the_queue_and_the_request_show_the_person_masked_to_masked_roles(
    tenant, make_staff, console_client
):
    from approvals.policy import GATES

    admin = make_staff("Admin", tenant, username="ann.admin")
    account = AccountFactory(tenant=tenant, email="maria@example.com")
    request = approval_request(
        ApprovalRequestCreate(
            gate="account.delete",
            command=AccountDelete(reason="erasure").to_json(seal=True),
            account_uid=account.uid,
            summary=f"{GATES['account.delete']}: Maria Garcia",
            reason="erasure request",
        ),
        tenant=tenant,
        actor=Actor.staff(admin),
    )
    viewer = console_client(make_staff("Viewer", tenant))
    for url in (reverse("console:approvals"), _detail(tenant, request)):
        page = viewer.get(url)
        assert page.status_code == 200
        assert b"Maria Garcia" not in page.content and b"Garcia" not in page.content
        assert f"{GATES['account.delete']}: M".encode() in page.content
    full = console_client(make_staff("Lead", tenant)).get(_detail(tenant, request))
    assert b"Maria Garcia" in full.content
