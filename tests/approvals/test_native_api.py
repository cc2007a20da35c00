"""A credential marked as needing approval: its gated native calls answer 202 with an
approval request, staff decide, and /api/v1/approvals shows the queue."""

import pytest

from accounts.models import Account
from approvals.commands import ApprovalApprove
from approvals.models import ApprovalRequest
from approvals.services import approval_approve
from jobs.models import Job
from portal.models import AuditEvent
from tests.conftest import LRClient
from tests.factories import AccountFactory, ApiCredentialFactory, TenantFactory

APPROVALS = "/api/v1/approvals"
JOBS = "/api/v1/jobs"


@pytest.fixture
def held_credential(tenant):
    return ApiCredentialFactory(tenant=tenant, requires_approval=True)


@pytest.fixture
def held(held_credential):
    return LRClient(held_credential)


def _block_job(client, accounts, **extra):
    return client.post(
        JOBS,
        {
            "action": "block",
            "uids": [a.uid for a in accounts],
            "expected_count": len(accounts),
            "reason": "fraud ring",
            "ticket": "RISK-9",
            **extra,
        },
    )


def test_a_gated_job_through_a_held_credential_waits_for_a_person(tenant, held, make_staff):
    tenant.settings = {**tenant.settings, "approval_bulk_threshold": 2}
    tenant.save()
    accounts = [AccountFactory(tenant=tenant) for _ in range(3)]
    response = _block_job(held, accounts)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending" and body["gate"] == "job.bulk"
    assert response["Location"] == f"{APPROVALS}/{body['id']}"
    assert body["command"]["type"] == "job.create"
    assert body["requested_by"]["type"] == "credential"
    assert not Job.objects.exists()
    assert not AuditEvent.objects.filter(action="job.created").exists()

    listed = held.get(APPROVALS, {"status": "pending"}).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]
    assert held.get(f"{APPROVALS}/{body['id']}").json()["reason"] == "fraud ring"

    lead = make_staff("Lead", tenant)
    approval_approve(ApprovalApprove(request_id=body["id"]), tenant=tenant, approver=lead)
    job = Job.objects.get()
    assert (job.action, job.actor_type) == ("block", "credential")
    assert held.get(f"{APPROVALS}/{body['id']}").json()["status"] == "executed"


def test_below_the_threshold_and_dry_runs_run_at_once(tenant, held):
    accounts = [AccountFactory(tenant=tenant) for _ in range(2)]
    assert _block_job(held, accounts).json()["status"] == "queued"  # threshold 100
    assert _block_job(held, accounts, dry_run=True).json()["dry_run"] is True
    assert not ApprovalRequest.objects.exists()


def test_an_unmarked_credential_is_never_held(tenant, lr):
    tenant.settings = {**tenant.settings, "approval_bulk_threshold": 1}
    tenant.save()
    assert _block_job(lr, [AccountFactory(tenant=tenant)]).status_code == 202
    assert Job.objects.count() == 1 and not ApprovalRequest.objects.exists()


def test_the_loginradius_paths_are_never_held(tenant, held):
    account = AccountFactory(tenant=tenant)
    response = held.delete(f"/identity/v2/manage/account/{account.uid}")
    assert response.status_code == 200, response.content
    assert not Account.objects.filter(pk=account.pk).exists()
    assert not ApprovalRequest.objects.exists()


def test_the_requesting_credential_withdraws_its_request(tenant, held):
    tenant.settings = {**tenant.settings, "approval_bulk_threshold": 1}
    tenant.save()
    body = _block_job(held, [AccountFactory(tenant=tenant)]).json()
    response = held.post(f"{APPROVALS}/{body['id']}/cancel", {"note": "wrong list"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    again = held.post(f"{APPROVALS}/{body['id']}/cancel", {})
    assert again.status_code == 409
    assert again.json()["code"] == "approval.not_pending"


def test_approvals_of_another_tenant_are_not_found_and_filters_are_checked(tenant, held):
    tenant.settings = {**tenant.settings, "approval_bulk_threshold": 1}
    tenant.save()
    body = _block_job(held, [AccountFactory(tenant=tenant)]).json()
    stranger = LRClient(ApiCredentialFactory(tenant=TenantFactory()))
    response = stranger.get(f"{APPROVALS}/{body['id']}")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert stranger.get(APPROVALS).json()["count"] == 0
    assert held.get(APPROVALS, {"status": "waiting"}).status_code == 400
    assert held.get(APPROVALS, {"stauts": "pending"}).status_code == 400


def test_native_factor_resets_unlocks_and_privileged_roles_are_held(tenant, held):
    from roles.models import Role

    tenant.settings = {
        **tenant.settings,
        "approval_gates": ["factor.reset", "account.unlock", "role.privileged"],
    }
    tenant.save()
    Role.objects.create(tenant=tenant, name="admin", privileged=True)
    Role.objects.create(tenant=tenant, name="viewer")
    account = AccountFactory(tenant=tenant)
    unlock = held.post(f"/api/v1/accounts/{account.uid}/unlock", {"reason": "called in"})
    assert unlock.status_code == 202 and unlock.json()["gate"] == "account.unlock"
    plain = held.put(f"/api/v1/accounts/{account.uid}/roles", {"roles": ["viewer"]})
    assert plain.status_code == 200, plain.content
    url = f"/api/v1/accounts/{account.uid}/roles"
    # A held change needs a reason for its approver.
    unexplained = held.put(url, {"roles": ["viewer", "admin"]})
    assert unexplained.status_code == 400 and unexplained.json()["errors"][0]["field"] == "reason"
    privileged = held.put(url, {"roles": ["viewer", "admin"]}, HTTP_X_REASON="new team lead")
    assert privileged.status_code == 202 and privileged.json()["gate"] == "role.privileged"


def test_a_role_is_marked_privileged_through_the_native_api(tenant, lr):
    from roles.models import Role

    Role.objects.create(tenant=tenant, name="admin", permissions=["all"])
    response = lr.request("PATCH", "/api/v1/roles/admin", body={"privileged": True})
    assert response.status_code == 200, response.content
    assert response.json()["privileged"] is True and response.json()["permissions"] == ["all"]
    assert Role.objects.get(tenant=tenant, name="admin").privileged
    event = AuditEvent.objects.get(action="role.permissions_changed")
    assert event.diff["privileged"] == [False, True]
    assert lr.request("PATCH", "/api/v1/roles/admin", body={"privileged": "yes"}).status_code == 400


def test_a_credential_needing_approval_is_made_through_the_api_and_the_console(
    tenant, make_staff, console_client
):
    from django.urls import reverse

    from portal.models import ApiCredential

    admin = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["admin"]))
    response = admin.post(
        "/api/v1/credentials",
        {"label": "crm-sync", "scopes": ["accounts"], "requires_approval": True},
        HTTP_X_REASON="new integration",
    )
    assert response.status_code == 201, response.content
    assert response.json()["requires_approval"] is True
    assert ApiCredential.objects.get(label="crm-sync").requires_approval
    assert AuditEvent.objects.get(action="credential.created").diff["requires_approval"] == [
        None,
        True,
    ]
    client = console_client(make_staff("Admin", tenant))
    client.post(
        reverse("console:credential_create", args=[tenant.slug]),
        {"label": "crm-console", "scopes": ["accounts"], "requires_approval": "on"},
    )
    assert ApiCredential.objects.get(label="crm-console").requires_approval
