"""An approved impersonation's token: sealed at rest, collected once by whoever asked,
from the approval's page, and not after it expired."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from accounts.commands import AccountBlock
from approvals.commands import ApprovalApprove, ApprovalRequestCreate, ApprovalResultCollect
from approvals.errors import (
    ApprovalNotAllowed,
    ApprovalResultCollected,
    ApprovalResultExpired,
    ApprovalResultUnavailable,
)
from approvals.models import ApprovalRequest
from approvals.services import approval_approve, approval_request, approval_result_collect
from portal import crypto
from portal.audit import Actor
from portal.models import AuditEvent
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory, TenantFactory
from tokens.commands import SessionIssue
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db


def _impersonation(tenant, make_staff):
    asker = make_staff("Lead", tenant, username="ivy.lead")
    approver = make_staff("Lead", tenant, username="lee.lead")
    account = AccountFactory(tenant=tenant)
    request = approval_request(
        ApprovalRequestCreate(
            gate="account.impersonate",
            command=SessionIssue(reason="bug", access_lifetime_seconds=900, refresh=False).to_json(
                seal=True
            ),
            account_uid=account.uid,
            reason="reproduce a bug",
        ),
        tenant=tenant,
        actor=Actor.staff(asker),
    )
    approval_approve(ApprovalApprove(request_id=request.pk), tenant=tenant, approver=approver)
    request.refresh_from_db()
    return request, asker, approver


def test_the_token_is_sealed_at_rest_and_collected_once(tenant, make_staff):
    request, asker, _ = _impersonation(tenant, make_staff)
    assert request.status == ApprovalRequest.EXECUTED
    token = AccessToken.objects.get()
    assert request.result and "access_token" not in request.result  # encrypted
    got = approval_result_collect(
        ApprovalResultCollect(request_id=request.pk), tenant=tenant, actor=Actor.staff(asker)
    )
    assert crypto.token_hash(got["access_token"]) == token.token_hash
    request.refresh_from_db()
    assert request.result == "" and request.result_collected_at is not None
    with pytest.raises(ApprovalResultCollected):
        approval_result_collect(
            ApprovalResultCollect(request_id=request.pk), tenant=tenant, actor=Actor.staff(asker)
        )
    assert AuditEvent.objects.filter(action="approval.result_collected").count() == 1


def test_only_the_requester_collects(tenant, make_staff):
    request, _, approver = _impersonation(tenant, make_staff)
    with pytest.raises(ApprovalNotAllowed):
        approval_result_collect(
            ApprovalResultCollect(request_id=request.pk), tenant=tenant, actor=Actor.staff(approver)
        )
    request.refresh_from_db()
    assert request.result and request.result_collected_at is None


def test_an_expired_token_is_not_handed_out(tenant, make_staff):
    request, asker, _ = _impersonation(tenant, make_staff)
    with freeze_time(timezone.now() + timedelta(minutes=16)), pytest.raises(ApprovalResultExpired):
        approval_result_collect(
            ApprovalResultCollect(request_id=request.pk), tenant=tenant, actor=Actor.staff(asker)
        )
    assert not AuditEvent.objects.filter(action="approval.result_collected").exists()


def test_a_command_without_a_result_has_nothing_to_collect(tenant, make_staff):
    asker = make_staff("Admin", tenant, username="ann.admin")
    approver = make_staff("Lead", tenant, username="lee.lead")
    account = AccountFactory(tenant=tenant)
    request = approval_request(
        ApprovalRequestCreate(
            gate="account.block",
            command=AccountBlock(reason="r").to_json(seal=True),
            account_uid=account.uid,
            reason="r",
        ),
        tenant=tenant,
        actor=Actor.staff(asker),
    )
    approval_approve(ApprovalApprove(request_id=request.pk), tenant=tenant, approver=approver)
    with pytest.raises(ApprovalResultUnavailable):
        approval_result_collect(
            ApprovalResultCollect(request_id=request.pk), tenant=tenant, actor=Actor.staff(asker)
        )


def test_the_requester_collects_from_the_approval_page(tenant, make_staff, console_client):
    request, asker, approver = _impersonation(tenant, make_staff)
    url = reverse("console:approval_detail", args=[tenant.slug, request.pk])
    other = console_client(approver)
    assert b"Collect the token" not in other.get(url).content
    assert other.post(url, {"decision": "collect"}).status_code == 403
    client = console_client(asker)
    assert b"Collect the token" in client.get(url).content
    shown = client.post(url, {"decision": "collect"})
    assert shown.status_code == 200 and shown["Cache-Control"] == "no-store"
    assert b"it will not be shown again" in shown.content
    page = client.get(url)
    assert b"Already collected" in page.content and b"Collect the token" not in page.content
    again = client.post(url, {"decision": "collect"}, follow=True)
    assert b"already collected" in again.content


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_collects_at_once_hand_the_token_out_once(make_staff):
    tenant = TenantFactory()
    request, asker, _ = _impersonation(tenant, make_staff)
    outcomes = run_concurrently(
        lambda: bool(
            approval_result_collect(
                ApprovalResultCollect(request_id=request.pk),
                tenant=tenant,
                actor=Actor.staff(asker),
            )["access_token"]
        ),
        3,
    )
    assert sorted(outcomes, key=str) == sorted(
        [True, "approval.result_collected", "approval.result_collected"], key=str
    )
