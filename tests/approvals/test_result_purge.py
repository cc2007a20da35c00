"""An approved impersonation's sealed token does not stay in the row once it can no longer
be collected: collecting empties it, and the hourly retention purge empties the ones left
past their expiry (approvals/retention.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from approvals.commands import ApprovalApprove, ApprovalRequestCreate, ApprovalResultCollect
from approvals.models import ApprovalRequest
from approvals.services import approval_approve, approval_request, approval_result_collect
from portal import retention
from portal.audit import Actor
from portal.models import AuditEvent
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory, TenantFactory
from tokens.commands import SessionIssue

pytestmark = pytest.mark.django_db

LIFETIME = timedelta(seconds=900)


@pytest.fixture
def people(tenant, make_staff):
    return make_staff("Lead", tenant, username="ivy.lead"), make_staff(
        "Lead", tenant, username="lee.lead"
    )


def impersonation(tenant, asker, approver) -> ApprovalRequest:
    request = approval_request(
        ApprovalRequestCreate(
            gate="account.impersonate",
            command=SessionIssue(
                reason="bug", access_lifetime_seconds=int(LIFETIME.total_seconds()), refresh=False
            ).to_json(seal=True),
            account_uid=AccountFactory(tenant=tenant).uid,
            reason="reproduce a bug",
        ),
        tenant=tenant,
        actor=Actor.staff(asker),
    )
    approval_approve(ApprovalApprove(request_id=request.pk), tenant=tenant, approver=approver)
    request.refresh_from_db()
    assert request.status == ApprovalRequest.EXECUTED and request.result
    return request


def purge(tenant, *, at) -> retention.PurgeResult:
    return retention.retention_purge(tenant=tenant, kind="approval_results", now=at)


def kept(request: ApprovalRequest) -> str:
    request.refresh_from_db()
    return request.result


def collect(tenant, request, asker) -> dict:
    return approval_result_collect(
        ApprovalResultCollect(request_id=request.pk), tenant=tenant, actor=Actor.staff(asker)
    )


def test_the_kind_has_no_tenant_setting_its_rows_carry_their_expiry():
    assert "approval_results" in retention.kinds()


def test_collecting_empties_the_sealed_token_in_the_same_change(tenant, people):
    asker, approver = people
    request = impersonation(tenant, asker, approver)
    assert collect(tenant, request, asker)["access_token"]
    assert kept(request) == "" and request.result_collected_at is not None
    assert purge(tenant, at=timezone.now() + LIFETIME * 2).deleted == 0


def test_the_purge_empties_expired_tokens_and_keeps_those_still_collectable(tenant, people):
    asker, approver = people
    start = timezone.now()
    expired = impersonation(tenant, asker, approver)
    with freeze_time(start + timedelta(minutes=10)):
        pending = impersonation(tenant, asker, approver)
    sealed = kept(pending)
    events_before = AuditEvent.objects.count()
    at = start + LIFETIME + timedelta(minutes=1)  # the first is past its expiry, not the second

    with freeze_time(at):
        outcome = purge(tenant, at=at)
        assert (outcome.kind, outcome.deleted, outcome.more) == ("approval_results", 1, False)
        assert kept(expired) == "" and expired.result_collected_at is None
        assert kept(pending) == sealed
        assert AuditEvent.objects.count() == events_before  # the token expired: nothing to tell
        assert collect(tenant, pending, asker)["access_token"]
        assert purge(tenant, at=at).deleted == 0


def test_a_token_sealed_under_a_retired_key_or_left_after_collecting_goes_too(
    tenant, other_tenant, people
):
    asker, approver = people
    unreadable = impersonation(tenant, asker, approver)
    leftover = impersonation(tenant, asker, approver)
    live = impersonation(tenant, asker, approver)
    ApprovalRequest.objects.filter(pk=unreadable.pk).update(result="gAAAAA-not-ours")
    ApprovalRequest.objects.filter(pk=leftover.pk).update(result_collected_at=timezone.now())
    elsewhere = ApprovalRequest.objects.create(
        tenant=other_tenant,
        gate="account.impersonate",
        command={},
        summary="s",
        reason="r",
        requested_by_type="staff",
        expires_at=timezone.now(),
        status=ApprovalRequest.EXECUTED,
        result="gAAAAA-not-ours",
    )
    assert purge(tenant, at=timezone.now()).deleted == 2
    assert kept(unreadable) == "" and kept(leftover) == ""
    assert kept(live) and kept(elsewhere) == "gAAAAA-not-ours"


def test_a_full_batch_hands_over_to_the_next_run(tenant, people):
    asker, approver = people
    for _ in range(3):
        impersonation(tenant, asker, approver)
    at = timezone.now() + LIFETIME * 2
    first = retention.retention_purge(
        tenant=tenant, kind="approval_results", now=at, batch_size=2, max_batches=1
    )
    assert (first.deleted, first.more) == (2, True)
    second = retention.retention_purge(
        tenant=tenant, kind="approval_results", now=at, batch_size=2, max_batches=1
    )
    assert (second.deleted, second.more) == (1, False)
    assert not ApprovalRequest.objects.exclude(result="").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_purge_racing_a_collect_leaves_the_token_handed_out_or_emptied_never_both(
    make_staff,
):
    tenant = TenantFactory()
    asker = make_staff("Lead", tenant, username="ivy.lead")
    approver = make_staff("Lead", tenant, username="lee.lead")
    request = impersonation(tenant, asker, approver)
    # The purge judges by a clock past the expiry; the collect by the real one.
    late = timezone.now() + LIFETIME * 2
    outcomes = run_concurrently(
        lambda i: (
            ("purged", purge(tenant, at=late).deleted)
            if i == 0
            else ("collected", bool(collect(tenant, request, asker)["access_token"]))
        ),
        2,
        pass_index=True,
    )
    # Collected first (the purge then finds it emptied), or emptied first (nothing to hand out).
    assert sorted(outcomes, key=str) in (
        sorted([("collected", True), ("purged", 0)], key=str),
        sorted(["approval.result_unavailable", ("purged", 1)], key=str),
    )
    assert kept(request) == ""
