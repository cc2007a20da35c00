"""`/api/v1/accounts/{uid}/factors`: an account's second factors as a native list, and the
reset of one kind (the FactorReset command the console and the LoginRadius paths use)."""

import pytest

from portal.audit import Actor
from portal.crypto import encrypt, token_hash
from portal.models import AuditEvent
from security.models import OtpFactor, PasskeyCredential, PushDevice, SecurityAnswer, TotpFactor
from tests.conftest import LRClient
from tests.factories import AccountFactory, ApiCredentialFactory
from tokens.commands import SessionIssue
from tokens.services import sessions

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def path(uid, *rest) -> str:
    return "/".join([f"/api/v1/accounts/{uid}/factors", *rest])


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code
    return response.json()


def enrol(account, *, confirmed_totp=True):
    tenant = account.tenant
    TotpFactor.objects.create(
        tenant=tenant,
        account=account,
        secret_encrypted=encrypt("JBSWY3DPEHPK3PXP"),
        confirmed=confirmed_totp,
    )
    OtpFactor.objects.create(
        tenant=tenant, account=account, channel="sms", destination="+15551230000", confirmed=True
    )
    OtpFactor.objects.create(
        tenant=tenant, account=account, channel="email", destination="ann@example.com"
    )
    SecurityAnswer.objects.create(
        tenant=tenant, account=account, question_id="q1", answer_hash=token_hash("x")
    )
    PasskeyCredential.objects.create(
        tenant=tenant, account=account, credential_id="abc", public_key="k", authenticator="YubiKey"
    )
    PushDevice.objects.create(
        tenant=tenant, account=account, device_token_encrypted=encrypt("d"), name="Ann's phone"
    )


def state():
    return (
        TotpFactor.objects.count(),
        OtpFactor.objects.count(),
        SecurityAnswer.objects.count(),
        PasskeyCredential.objects.count(),
        PushDevice.objects.count(),
        AuditEvent.objects.count(),
    )


def test_list_names_each_kind_with_a_masked_label(lr, account):
    enrol(account, confirmed_totp=False)
    response = lr.get(path(account.uid))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    by_kind = {row["kind"]: row for row in body["results"]}
    assert list(by_kind) == ["totp", "sms", "email", "securityquestion", "passkey", "push"]
    assert body["count"] == 6
    assert by_kind["totp"]["confirmed"] is False
    assert by_kind["sms"] == {**by_kind["sms"], "label": "********0000", "confirmed": True}
    assert by_kind["email"]["label"] == "an*@example.com"
    assert by_kind["passkey"]["label"] == "YubiKey" and by_kind["push"]["label"] == "Ann's phone"
    assert all(row["created_at"].endswith("Z") and row["count"] == 1 for row in body["results"])
    text = response.content.decode()
    assert "+15551230000" not in text and "ann@example.com" not in text


def test_an_account_without_factors_lists_none(lr, account):
    assert lr.get(path(account.uid)).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_reset_removes_that_kind_only_records_why_and_ends_sessions(lr, account):
    enrol(account)
    issued = sessions.session_issue(
        SessionIssue(), tenant=account.tenant, account=account, actor=Actor.account(account.uid)
    )
    response = lr.delete(path(account.uid, "totp"), HTTP_X_REASON="new phone", HTTP_X_TICKET="S-2")
    assert response.status_code == 204
    assert not TotpFactor.objects.exists()
    assert OtpFactor.objects.count() == 2 and PushDevice.objects.count() == 1
    event = AuditEvent.objects.get(action="mfa_factor.reset")
    assert (event.reason, event.ticket, event.diff["factor"]) == (
        "new phone",
        "S-2",
        ["totp", None],
    )
    assert AuditEvent.objects.filter(action="session.all_revoked", caused_by=event.pk).exists()
    from tokens.models import AccessToken

    assert AccessToken.objects.get(token_hash=token_hash(issued.access_token)).revoked_at
    kinds = [row["kind"] for row in lr.get(path(account.uid)).json()["results"]]
    assert "totp" not in kinds and "sms" in kinds


def test_a_kind_not_held_or_unknown_is_404_and_changes_nothing(lr, account):
    OtpFactor.objects.create(
        tenant=account.tenant, account=account, channel="sms", destination="+1555", confirmed=True
    )
    before = state()
    problem(lr.delete(path(account.uid, "totp")), 404, "not_found")
    problem(lr.delete(path(account.uid, "carrier-pigeon")), 404, "not_found")
    assert state() == before


def test_another_tenants_account_is_404(lr, other_tenant):
    stranger = AccountFactory(tenant=other_tenant)
    enrol(stranger)
    before = state()
    problem(lr.get(path(stranger.uid)), 404, "account.not_found")
    problem(lr.delete(path(stranger.uid, "totp")), 404, "account.not_found")
    assert state() == before


def test_a_credential_scoped_away_from_security_is_refused(tenant, account):
    enrol(account)
    scoped = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts", "sessions"]))
    before = state()
    problem(scoped.get(path(account.uid)), 403, "credential.scope_refused")
    problem(scoped.delete(path(account.uid, "totp")), 403, "credential.scope_refused")
    assert state() == before
    assert (
        LRClient(ApiCredentialFactory(tenant=tenant, scopes=["security"]))
        .get(path(account.uid))
        .status_code
        == 200
    )


def test_unknown_query_parameters_are_400(lr, account):
    body = problem(lr.get(path(account.uid), {"kind": "totp"}), 400, "input.invalid")
    assert body["errors"] == [
        {
            "field": "kind",
            "message": "This resource has no such query parameter.",
            "code": "unknown",
        }
    ]
