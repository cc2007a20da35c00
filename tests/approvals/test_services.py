"""Four-eyes approval in the service: who may decide, running once, failing cleanly, expiry."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.commands import AccountDelete, EmailMakePrimary
from accounts.models import Account
from approvals import policy
from approvals.commands import (
    ApprovalApprove,
    ApprovalCancel,
    ApprovalDeny,
    ApprovalRequestCreate,
)
from approvals.models import ApprovalRequest
from approvals.services import (
    approval_approve,
    approval_cancel,
    approval_deny,
    approval_request,
)
from approvals.tasks import approvals_expire_task, approvers_notify_task
from portal import staff, tenant_settings
from portal.audit import Actor
from portal.errors import DomainError
from portal.models import AuditEvent
from roles.commands import AccountRolesAssign
from roles.models import Role
from security.commands import FactorReset
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory, ApiCredentialFactory, TenantFactory


@pytest.fixture
def tenant(db):
    return TenantFactory()


@pytest.fixture
def people(make_staff, tenant):
    """An admin who asks, two leads who may approve, and an agent who may not."""
    return {
        "agent": make_staff("Admin", tenant, username="ann.admin"),
        "lead": make_staff("Lead", tenant, username="lee.lead"),
        "lead2": make_staff("Lead", tenant, username="lou.lead"),
        "other_agent": make_staff("Agent", tenant, username="otto.agent"),
    }


def _ask(tenant, user, account, command, *, gate="account.delete"):
    return approval_request(
        ApprovalRequestCreate(
            gate=gate,
            command=command.to_json(seal=True),
            account_uid=account.uid,
            summary=f"{gate} on {account.uid}",
            reason="customer asked",
            ticket="SUP-1",
        ),
        tenant=tenant,
        actor=Actor.staff(user),
    )


def _code(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def test_an_approved_delete_runs_once_with_the_requester_as_actor(tenant, people):
    account = AccountFactory(tenant=tenant)
    request = _ask(tenant, people["agent"], account, AccountDelete(reason="customer asked"))
    assert request.status == ApprovalRequest.PENDING
    assert Account.objects.filter(pk=account.pk).exists()

    done = approval_approve(
        ApprovalApprove(request_id=request.pk, note="ticket checked"),
        tenant=tenant,
        approver=people["lead"],
    )
    assert done.status == ApprovalRequest.EXECUTED and done.executed_at is not None
    assert not Account.objects.filter(pk=account.pk).exists()
    approved = AuditEvent.objects.get(action="approval.approved")
    deleted = AuditEvent.objects.get(action="account.deleted")
    assert approved.actor_label == "lee.lead"
    assert deleted.actor_label == "ann.admin" and deleted.caused_by == approved.pk
    assert (done.requested_by_label, done.decided_by_label) == ("ann.admin", "lee.lead")
    # A decided request is decided: a second approval is refused and runs nothing.
    assert (
        _code(
            lambda: approval_approve(
                ApprovalApprove(request_id=request.pk), tenant=tenant, approver=people["lead2"]
            )
        )
        == "approval.not_pending"
    )


def test_the_requester_cannot_approve_their_own_request(tenant, make_staff):
    lead = make_staff("Admin", tenant)
    account = AccountFactory(tenant=tenant)
    request = _ask(tenant, lead, account, AccountDelete())
    assert (
        _code(
            lambda: approval_approve(
                ApprovalApprove(request_id=request.pk), tenant=tenant, approver=lead
            )
        )
        == "approval.own_request"
    )
    assert _code(
        lambda: approval_deny(ApprovalDeny(request_id=request.pk), tenant=tenant, approver=lead)
    ) == ("approval.own_request")
    request.refresh_from_db()
    assert request.status == ApprovalRequest.PENDING
    assert Account.objects.filter(pk=account.pk).exists()


def test_an_approver_needs_the_permission_and_the_role(tenant, people, make_staff):
    account = AccountFactory(tenant=tenant)
    request = _ask(tenant, people["agent"], account, AccountDelete())
    without_permission = make_staff(
        "Lead", tenant, perms=[p for p in staff.TENANT_PERMISSIONS if p != "approve_requests"]
    )
    other_tenant_lead = make_staff("Lead", TenantFactory())
    for approver in (people["other_agent"], without_permission, other_tenant_lead):
        assert (
            _code(
                lambda approver=approver: approval_approve(
                    ApprovalApprove(request_id=request.pk), tenant=tenant, approver=approver
                )
            )
            == "approval.not_allowed"
        )
    assert Account.objects.filter(pk=account.pk).exists()


def test_an_approver_with_a_pending_request_on_the_same_account_may_not_decide(tenant, people):
    account = AccountFactory(tenant=tenant)
    theirs = _ask(tenant, people["agent"], account, AccountDelete())
    _ask(tenant, people["lead"], account, FactorReset(factor="totp"), gate="factor.reset")
    assert ApprovalRequest.objects.filter(status="pending").count() == 2
    assert (
        _code(
            lambda: approval_approve(
                ApprovalApprove(request_id=theirs.pk), tenant=tenant, approver=people["lead"]
            )
        )
        == "approval.pending_own_request"
    )
    # Another lead without a request of their own on the account decides it.
    approval_approve(ApprovalApprove(request_id=theirs.pk), tenant=tenant, approver=people["lead2"])


def test_a_request_of_another_tenant_is_not_found(tenant, people):
    account = AccountFactory(tenant=tenant)
    request = _ask(tenant, people["agent"], account, AccountDelete())
    elsewhere = TenantFactory()
    assert (
        _code(
            lambda: approval_approve(
                ApprovalApprove(request_id=request.pk), tenant=elsewhere, approver=people["lead"]
            )
        )
        == "approval.not_found"
    )


def test_an_expired_request_is_refused_then_closed_by_the_expiry(tenant, people):
    account = AccountFactory(tenant=tenant)
    request = _ask(tenant, people["agent"], account, AccountDelete())
    ApprovalRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert (
        _code(
            lambda: approval_approve(
                ApprovalApprove(request_id=request.pk), tenant=tenant, approver=people["lead"]
            )
        )
        == "approval.expired"
    )
    assert approvals_expire_task() == 1
    request.refresh_from_db()
    assert request.status == ApprovalRequest.EXPIRED
    assert (
        AuditEvent.objects.filter(action="approval.expired", subject_uid=account.uid).count() == 1
    )
    assert Account.objects.filter(pk=account.pk).exists()


def test_a_command_whose_preconditions_changed_fails_cleanly_with_the_reason(tenant, people):
    account = AccountFactory(tenant=tenant, email="ann@example.com")
    request = _ask(
        tenant,
        people["agent"],
        account,
        EmailMakePrimary(email="not-on-this-account@example.com"),
        gate="contact.change",
    )
    done = approval_approve(
        ApprovalApprove(request_id=request.pk), tenant=tenant, approver=people["lead"]
    )
    assert done.status == ApprovalRequest.FAILED
    assert done.failure_code and done.failure_detail
    failed = AuditEvent.objects.get(action="approval.failed")
    assert failed.caused_by == AuditEvent.objects.get(action="approval.approved").pk
    assert failed.diff["error"] == done.failure_code


def test_a_deleted_account_fails_the_request_cleanly(tenant, people):
    account = AccountFactory(tenant=tenant)
    request = _ask(
        tenant, people["agent"], account, FactorReset(factor="totp"), gate="factor.reset"
    )
    Account.objects.filter(pk=account.pk).delete()
    done = approval_approve(
        ApprovalApprove(request_id=request.pk), tenant=tenant, approver=people["lead"]
    )
    assert (done.status, done.failure_code) == (ApprovalRequest.FAILED, "account.not_found")


def test_the_requesters_permission_is_checked_again_when_it_runs(tenant, people):
    from guardian.shortcuts import remove_perm

    account = AccountFactory(tenant=tenant)
    request = _ask(
        tenant, people["agent"], account, FactorReset(factor="totp"), gate="factor.reset"
    )
    remove_perm("portal.manage_security", people["agent"], tenant)
    done = approval_approve(
        ApprovalApprove(request_id=request.pk), tenant=tenant, approver=people["lead"]
    )
    assert (done.status, done.failure_code) == (
        ApprovalRequest.FAILED,
        "approval.requester_not_allowed",
    )


def test_a_revoked_credential_that_asked_fails_the_request(tenant, people):
    credential = ApiCredentialFactory(tenant=tenant)
    account = AccountFactory(tenant=tenant)
    request = approval_request(
        ApprovalRequestCreate(
            gate="account.delete",
            command=AccountDelete().to_json(seal=True),
            account_uid=account.uid,
            reason="cleanup",
        ),
        tenant=tenant,
        actor=Actor.credential(credential),
    )
    credential.revoked_at = timezone.now()
    credential.save(update_fields=["revoked_at"])
    done = approval_approve(
        ApprovalApprove(request_id=request.pk), tenant=tenant, approver=people["lead"]
    )
    assert done.failure_code == "approval.requester_not_allowed"
    assert Account.objects.filter(pk=account.pk).exists()


def test_one_may_ask_only_for_what_one_could_do_oneself(tenant, people):
    account = AccountFactory(tenant=tenant)
    # Deleting an account is an admin's action: an agent cannot even ask for it.
    assert (
        _code(lambda: _ask(tenant, people["other_agent"], account, AccountDelete()))
        == "approval.requester_not_allowed"
    )
    assert not ApprovalRequest.objects.exists()


def test_deny_and_cancel(tenant, people):
    account = AccountFactory(tenant=tenant)
    denied = _ask(tenant, people["agent"], account, AccountDelete())
    approval_deny(
        ApprovalDeny(request_id=denied.pk, note="no ticket"), tenant=tenant, approver=people["lead"]
    )
    denied.refresh_from_db()
    assert (denied.status, denied.decision_note) == (ApprovalRequest.DENIED, "no ticket")
    withdrawn = _ask(tenant, people["agent"], account, AccountDelete())
    assert (
        _code(
            lambda: approval_cancel(
                ApprovalCancel(request_id=withdrawn.pk),
                tenant=tenant,
                actor=Actor.staff(people["lead"]),
            )
        )
        == "approval.not_allowed"
    )
    approval_cancel(
        ApprovalCancel(request_id=withdrawn.pk), tenant=tenant, actor=Actor.staff(people["agent"])
    )
    withdrawn.refresh_from_db()
    assert withdrawn.status == ApprovalRequest.CANCELLED
    assert Account.objects.filter(pk=account.pk).exists()


def test_a_stored_secret_stays_sealed_in_the_request(tenant, people):
    from accounts.commands import PasswordSet

    account = AccountFactory(tenant=tenant)
    request = _ask(
        tenant,
        people["agent"],
        account,
        PasswordSet(password="Sekrit-Passw0rd!"),
        gate="password.set",
    )
    request.refresh_from_db()
    assert "Sekrit-Passw0rd!" not in str(request.command)


def test_approvers_are_emailed_but_not_the_requester(tenant, people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for user in people.values():
        user.email = f"{user.username}@staff.example"
        user.save(update_fields=["email"])
    account = AccountFactory(tenant=tenant)
    request = _ask(tenant, people["agent"], account, AccountDelete())
    mail.outbox.clear()
    assert approvers_notify_task(request.pk) == 2
    assert sorted(m.to[0] for m in mail.outbox) == [
        "lee.lead@staff.example",
        "lou.lead@staff.example",
    ]
    assert f"/console/approvals/{tenant.slug}/{request.pk}/" in mail.outbox[0].body


def test_the_gates_cover_the_default_actions_and_follow_the_tenant(tenant):
    assert set(policy.GATES) == {value for value, _ in tenant_settings.APPROVAL_GATES}
    assert set(policy.DEFAULT_GATES) == {
        "account.delete",
        "factor.reset",
        "contact.change",
        "role.privileged",
        "job.bulk",
        "account.impersonate",
    }
    assert policy.approval_needed(AccountDelete(), tenant=tenant) == "account.delete"
    Role.objects.create(tenant=tenant, name="admin", privileged=True)
    Role.objects.create(tenant=tenant, name="viewer")
    assert policy.approval_needed(AccountRolesAssign(roles=("viewer",)), tenant=tenant) is None
    assert (
        policy.approval_needed(AccountRolesAssign(roles=("viewer", "admin")), tenant=tenant)
        == "role.privileged"
    )
    tenant.settings = {**tenant.settings, "approval_gates": ["factor.reset"]}
    tenant.save()
    assert policy.approval_needed(AccountDelete(), tenant=tenant) is None
    assert policy.approval_needed(FactorReset(factor="totp"), tenant=tenant) == "factor.reset"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_run_the_command_once(make_staff):
    tenant = TenantFactory()
    agent = make_staff("Admin", tenant)
    leads = [make_staff("Lead", tenant) for _ in range(4)]
    account = AccountFactory(tenant=tenant)
    request = _ask(tenant, agent, account, AccountDelete(reason="customer asked"))
    outcomes = run_concurrently(
        lambda i: (
            approval_approve(
                ApprovalApprove(request_id=request.pk), tenant=tenant, approver=leads[i]
            ).status
        ),
        4,
        pass_index=True,
    )
    assert sorted(outcomes) == sorted(["executed"] + ["approval.not_pending"] * 3)
    assert AuditEvent.objects.filter(action="account.deleted", subject_uid=account.uid).count() == 1
    assert AuditEvent.objects.filter(action="approval.approved").count() == 1


@pytest.mark.usefixtures("eager_tasks")
def test_a_new_request_emails_the_approvers_after_commit(
    tenant, people, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people["lead"].email = "lee@staff.example"
    people["lead"].save(update_fields=["email"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _ask(tenant, people["agent"], AccountFactory(tenant=tenant), AccountDelete())
    assert [m.to for m in mail.outbox] == [["lee@staff.example"]]
    assert mail.outbox[0].subject.startswith("Approval requested:")
