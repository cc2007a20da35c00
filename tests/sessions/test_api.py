import re
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from portal.audit import Actor
from portal.crypto import token_hash
from portal.models import AuditEvent
from tests.factories import AccountFactory, ApiCredentialFactory
from tokens.api.sessions.views import lr_datetime
from tokens.commands import RefreshTokenRevoke, SessionIssue
from tokens.models import AccessToken, RefreshToken, TokenFamily
from tokens.services import sessions

pytestmark = pytest.mark.django_db

GUID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
LR_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$")
MANAGE = "/identity/v2/manage/account"


def legacy_get(credential, path, **params):
    """The v11 SDK's legacy form: key and secret in the query."""
    query = {"key": credential.tenant.api_key, "secret": credential.raw, **params}
    return APIClient().get(f"{path}?{urlencode(query)}")


def auth_get(tenant, path, token=None, **params):
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(f"{path}?{urlencode({'apikey': tenant.api_key, **params})}", **headers)


def test_lr_datetime_format():
    from datetime import UTC, datetime

    assert (
        lr_datetime(datetime(2018, 9, 18, 7, 16, 2, 650000, tzinfo=UTC))
        == "2018-09-18T07:16:02.65Z"
    )
    assert lr_datetime(datetime(2018, 9, 18, 7, 16, 2, tzinfo=UTC)) == "2018-09-18T07:16:02Z"


# --- impersonation ---------------------------------------------------------------------------


def test_impersonation_token_for_uid(lr, account, credential):
    response = lr.get(
        f"{MANAGE}/access_token",
        {"uid": account.uid, "reason": "debugging ticket 7"},
        HTTP_X_ORIGIN_IP="198.51.100.4",
        HTTP_USER_AGENT="curl/8.0",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in"}
    assert GUID.match(body["access_token"]) and GUID.match(body["refresh_token"])
    assert LR_DATE.match(body["expires_in"])
    family = TokenFamily.objects.get(account=account)
    assert family.is_impersonation and family.actor_id == str(credential.pk)
    assert (
        family.reason == "debugging ticket 7"
        and family.ip == "198.51.100.4"
        and family.browser == "curl"
    )
    event = AuditEvent.objects.get(action="session.impersonated")
    assert event.subject_uid == account.uid and event.actor_type == "credential"
    assert event.reason == "debugging ticket 7"
    assert body["access_token"] not in str(event.diff)


def test_impersonation_errors(lr, lr_other, account):
    assert lr.get(f"{MANAGE}/access_token").json()["ErrorCode"] == 908
    assert lr.get(f"{MANAGE}/access_token", {"uid": "0" * 32}).json()["ErrorCode"] == 938
    # Another tenant's UID is unknown.
    response = lr_other.get(f"{MANAGE}/access_token", {"uid": account.uid})
    assert response.status_code == 403 and response.json()["ErrorCode"] == 938
    assert not TokenFamily.objects.exists()


def test_impersonation_needs_the_secret(account, tenant):
    response = APIClient().get(f"{MANAGE}/access_token?apikey={tenant.api_key}&uid={account.uid}")
    assert response.json()["ErrorCode"] == 923
    assert not TokenFamily.objects.exists()


# --- refresh / revoke ------------------------------------------------------------------------


def test_refresh_rotates_and_accepts_any_parameter_case(lr, account, issue):
    issued = issue(account)
    response = lr.get(f"{MANAGE}/access_token/refresh", {"refresh_Token": issued.refresh_token})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in"}
    assert body["refresh_token"] != issued.refresh_token
    # Case-insensitive path as well.
    again = lr.get(
        "/Identity/V2/Manage/Account/Access_Token/Refresh", {"REFRESH_TOKEN": body["refresh_token"]}
    )
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("params", "code"),
    [({}, 1337), ({"refresh_token": "x"}, 1217), ({"refresh_token": str(uuid.uuid4())}, 1217)],
)
def test_refresh_errors(lr, params, code):
    response = lr.get(f"{MANAGE}/access_token/refresh", params)
    assert response.json()["ErrorCode"] == code
    assert set(response.json()) >= {"Description", "ErrorCode", "Message", "IsProviderError"}


def test_refresh_of_another_tenants_token(lr_other, account, issue):
    issued = issue(account)
    response = lr_other.get(
        f"{MANAGE}/access_token/refresh", {"refresh_token": issued.refresh_token}
    )
    assert response.json()["ErrorCode"] == 1217
    assert RefreshToken.objects.get(account=account).rotated_at is None


def test_reuse_after_grace_over_the_wire(lr, account, issue):
    with freeze_time("2026-05-01T10:00:00Z") as clock:
        issued = issue(account)
        child = lr.get(
            f"{MANAGE}/access_token/refresh", {"refresh_token": issued.refresh_token}
        ).json()
        clock.tick(timedelta(seconds=2))
        repeat = lr.get(
            f"{MANAGE}/access_token/refresh", {"refresh_token": issued.refresh_token}
        ).json()
        assert repeat == child
        clock.tick(timedelta(seconds=10))
        reuse = lr.get(f"{MANAGE}/access_token/refresh", {"refresh_token": issued.refresh_token})
        assert reuse.json()["ErrorCode"] == 1217
        assert (
            auth_get(
                account.tenant, "/identity/v2/auth/access_token/validate", child["access_token"]
            ).json()["ErrorCode"]
            == 905
        )
    assert (
        AuditEvent.objects.filter(action="session.reuse_detected", subject_uid=account.uid).count()
        == 1
    )


def test_revoke_one_refresh_token(lr, lr_other, account, issue):
    issued = issue(account)
    assert (
        lr_other.get(
            f"{MANAGE}/access_token/refresh/revoke", {"refresh_token": issued.refresh_token}
        ).json()["ErrorCode"]
        == 1217
    )
    assert TokenFamily.objects.get().revoked_at is None
    assert lr.get(f"{MANAGE}/access_token/refresh/revoke").json()["ErrorCode"] == 1337
    response = lr.get(
        f"{MANAGE}/access_token/refresh/revoke", {"refresh_Token": issued.refresh_token}
    )
    assert response.status_code == 200 and response.json() == {"IsDeleted": True}
    assert TokenFamily.objects.get().revoked_at is not None
    again = lr.get(f"{MANAGE}/access_token/refresh/revoke", {"refresh_token": issued.refresh_token})
    assert again.json()["ErrorCode"] == 1217


def test_revoke_all_refresh_tokens_of_an_account(lr, lr_other, account, issue):
    issued = [issue(account), issue(account)]
    assert (
        lr_other.delete(f"{MANAGE}/{account.uid}/access_token/refresh/revoke").json()["ErrorCode"]
        == 938
    )
    assert not TokenFamily.objects.filter(revoked_at__isnull=False).exists()
    response = lr.delete(
        f"{MANAGE}/{account.uid}/access_token/refresh/revoke", params={"reason": "lost phone"}
    )
    assert response.status_code == 200 and response.json() == {"IsDeleted": True}
    for pair in issued:
        assert (
            lr.get(f"{MANAGE}/access_token/refresh", {"refresh_token": pair.refresh_token}).json()[
                "ErrorCode"
            ]
            == 1217
        )
    event = AuditEvent.objects.get(action="session.all_revoked")
    assert event.reason == "lost phone" and event.actor_type == "credential"
    assert lr.delete(f"{MANAGE}/{'0' * 32}/access_token/refresh/revoke").json()["ErrorCode"] == 938


def test_credential_without_sessions_scope_is_refused(tenant, account, issue):
    credential = ApiCredentialFactory(tenant=tenant, scopes=["accounts"])
    issued = issue(account)
    client = APIClient()
    response = client.get(
        f"{MANAGE}/access_token/refresh?apikey={tenant.api_key}&refresh_token={issued.refresh_token}",
        HTTP_X_LOGINRADIUS_APISECRET=credential.raw,
    )
    assert response.json()["ErrorCode"] == 1143
    assert RefreshToken.objects.get().rotated_at is None


# --- legacy /api/v2/access_token* --------------------------------------------------------------


def test_legacy_validate_with_key_and_secret(credential, account, issue):
    issued = issue(account)
    response = legacy_get(
        credential, "/api/v2/access_token/validate", access_token=issued.access_token
    )
    assert response.status_code == 200
    assert response.json() == {
        "access_token": issued.access_token,
        "expires_in": lr_datetime(issued.access_expires_at),
    }


def test_legacy_validate_with_headers(tenant, credential, account, issue):
    issued = issue(account)
    response = APIClient().get(
        f"/api/v2/access_token/validate?access_token={issued.access_token}",
        HTTP_X_LOGINRADIUS_APIKEY=tenant.api_key,
        HTTP_X_LOGINRADIUS_APISECRET=credential.raw,
    )
    assert response.status_code == 200 and response.json()["access_token"] == issued.access_token


@pytest.mark.parametrize(
    ("token", "code"), [(None, 1060), ("nope", 905), ("0b6f4d1e-8c3a-4e57-9f21-6d2a7c9e5b13", 905)]
)
def test_legacy_validate_errors_are_lower_camel(credential, token, code):
    params = {"access_token": token} if token else {}
    body = legacy_get(credential, "/api/v2/access_token/validate", **params).json()
    assert body["errorCode"] == code and "ErrorCode" not in body
    assert {"description", "message", "isProviderError"} <= set(body)


def test_legacy_validate_of_another_tenants_token(other_credential, account, issue):
    issued = issue(account)
    body = legacy_get(
        other_credential, "/api/v2/access_token/validate", access_token=issued.access_token
    ).json()
    assert body["errorCode"] == 905


def test_legacy_validate_expired(credential, account, issue):
    with freeze_time(timezone.now() - timedelta(hours=2)):
        issued = issue(account)
    body = legacy_get(
        credential, "/api/v2/access_token/validate", access_token=issued.access_token
    ).json()
    assert body["errorCode"] == 906


def test_legacy_invalidate_with_and_without_prevent_refresh(credential, account, issue):
    first = issue(account)
    response = legacy_get(
        credential, "/api/v2/access_token/invalidate", access_token=first.access_token
    )
    assert response.status_code == 200 and response.json() == {"isPosted": True}
    assert (
        legacy_get(
            credential, "/api/v2/access_token/validate", access_token=first.access_token
        ).json()["errorCode"]
        == 905
    )
    assert RefreshToken.objects.get().revoked_at is None

    second = issue(account)
    response = legacy_get(
        credential,
        "/api/v2/access_token/invalidate",
        access_token=second.access_token,
        preventRefresh="True",
    )
    assert response.json() == {"isPosted": True}
    family = TokenFamily.objects.get(refresh_tokens__token_hash=token_hash(second.refresh_token))
    assert family.revoked_reason == "invalidated"
    assert (
        legacy_get(
            credential, "/api/v2/access_token/invalidate", access_token=second.access_token
        ).json()["errorCode"]
        == 905
    )


def test_legacy_refresh_with_secret_only(credential, account, issue):
    issued = issue(account)
    response = APIClient().get(
        f"/api/v2/access_token/refresh?access_token={issued.access_token}&secret={credential.raw}&expiresIn=0&isWeb=False"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in"}
    assert (
        AccessToken.objects.get(token_hash=token_hash(issued.access_token)).revoked_at is not None
    )


def test_legacy_secret_only_errors(account, issue):
    issued = issue(account)
    client = APIClient()
    assert (
        client.get(
            f"/api/v2/access_token/refresh?access_token={issued.access_token}&secret=bad"
        ).json()["errorCode"]
        == 921
    )
    assert (
        client.get(
            f"/api/v2/access_token/refresh?access_token={issued.access_token}&secret={uuid.uuid4()}"
        ).json()["errorCode"]
        == 902
    )
    assert (
        client.get(f"/api/v2/access_token/refresh?access_token={issued.access_token}").json()[
            "errorCode"
        ]
        == 908
    )
    assert AccessToken.objects.get().revoked_at is None


def test_legacy_exchange_of_a_request_token(credential):
    client = APIClient()
    body = client.get(f"/api/v2/access_token?secret={credential.raw}&token={uuid.uuid4()}").json()
    assert body["errorCode"] == 905
    assert client.get(f"/api/v2/access_token?secret={credential.raw}").json()["errorCode"] == 908
    assert not TokenFamily.objects.exists()


def test_active_sessions_by_token_account_and_profile(credential, account, issue):
    chrome = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
    )
    first = issue(
        account,
        SessionIssue(
            device={"ip": "192.0.2.1", "user_agent": chrome, "city": "Paris", "country": "France"}
        ),
    )
    second = issue(account)
    revoked = issue(account)
    sessions.session_revoke(
        RefreshTokenRevoke(refresh_token=revoked.refresh_token),
        tenant=account.tenant,
        actor=Actor.system(),
    )
    issue(AccountFactory(tenant=account.tenant))

    for path in ("/api/v2/access_token/activesession", "/api/v2/access_token/activeSession"):
        for params in (
            {"token": second.access_token},
            {"accountid": account.uid},
            {"profileid": account.provider_id},
            {"accountId": account.uid},
            {"profileId": account.provider_id},
        ):
            response = legacy_get(credential, path, **params)
            assert response.status_code == 200, response.json()
            body = response.json()
            assert set(body) == {"data", "nextcursor"} and body["nextcursor"] == 0
            assert [row["AccessToken"][:8] for row in body["data"]] == [
                second.access_token[:8],
                first.access_token[:8],
            ]
    row = body["data"][1]
    assert row == {
        "AccessToken": f"{first.access_token[:8]}-****-****-****-************",
        "Browser": "Chrome",
        "Device": "Computer",
        "Os": "Windows",
        "DeviceType": "Desktop",
        "City": "Paris",
        "Country": "France",
        "Ip": "192.0.2.1",
        "LoginDate": row["LoginDate"],
    }
    assert LR_DATE.match(row["LoginDate"])
    assert first.access_token not in str(body)


def test_active_sessions_paginate_with_cursor(credential, account, issue, monkeypatch):
    from tokens import selectors

    original = selectors.active_sessions_list
    monkeypatch.setattr(selectors, "active_sessions_list", lambda **kw: original(**kw, limit=2))
    issued = [issue(account) for _ in range(3)]
    page = legacy_get(
        credential, "/api/v2/access_token/activesession", accountid=account.uid
    ).json()
    assert len(page["data"]) == 2 and page["nextcursor"]
    rest = legacy_get(
        credential,
        "/api/v2/access_token/activesession",
        accountid=account.uid,
        cursor=page["nextcursor"],
    ).json()
    assert [r["AccessToken"][:8] for r in rest["data"]] == [issued[0].access_token[:8]] and rest[
        "nextcursor"
    ] == 0


def test_active_sessions_errors(credential, other_credential, account, issue):
    assert legacy_get(credential, "/api/v2/access_token/activesession").json()["errorCode"] == 908
    assert (
        legacy_get(credential, "/api/v2/access_token/activesession", accountid="0" * 32).json()[
            "errorCode"
        ]
        == 938
    )
    assert (
        legacy_get(credential, "/api/v2/access_token/activesession", profileid="nope").json()[
            "errorCode"
        ]
        == 938
    )
    assert (
        legacy_get(credential, "/api/v2/access_token/activesession", token="bad").json()[
            "errorCode"
        ]
        == 905
    )
    issued = issue(account)
    assert (
        legacy_get(
            other_credential, "/api/v2/access_token/activesession", token=issued.access_token
        ).json()["errorCode"]
        == 905
    )
    assert (
        legacy_get(
            other_credential, "/api/v2/access_token/activesession", accountid=account.uid
        ).json()["errorCode"]
        == 938
    )


# --- token side ------------------------------------------------------------------------------


def test_auth_validate_info_and_invalidate(tenant, account, issue):
    issued = issue(account)
    body = auth_get(tenant, "/identity/v2/auth/access_token/validate", issued.access_token).json()
    assert body == {
        "access_token": issued.access_token,
        "expires_in": lr_datetime(issued.access_expires_at),
    }
    # The token may also come as a query parameter.
    info = auth_get(
        tenant, "/identity/v2/auth/access_token", access_token=issued.access_token
    ).json()
    assert info == {**body, "Uid": account.uid}

    response = auth_get(
        tenant,
        "/identity/v2/auth/access_token/invalidate",
        issued.access_token,
        preventRefresh="true",
    )
    assert response.status_code == 200 and response.json() == {"IsPosted": True}
    event = AuditEvent.objects.get(action="session.invalidated")
    assert event.actor_type == "account" and event.actor_id == account.uid
    assert (
        auth_get(tenant, "/identity/v2/auth/access_token/validate", issued.access_token).json()[
            "ErrorCode"
        ]
        == 905
    )
    assert TokenFamily.objects.get().revoked_reason == "invalidated"


def test_auth_side_errors(tenant, other_tenant, account, issue):
    issued = issue(account)
    assert auth_get(tenant, "/identity/v2/auth/access_token/validate").json()["ErrorCode"] == 1060
    assert (
        auth_get(tenant, "/identity/v2/auth/access_token/validate", "junk").json()["ErrorCode"]
        == 905
    )
    assert (
        auth_get(
            other_tenant, "/identity/v2/auth/access_token/validate", issued.access_token
        ).json()["ErrorCode"]
        == 905
    )
    assert (
        auth_get(
            other_tenant, "/identity/v2/auth/access_token/invalidate", issued.access_token
        ).json()["ErrorCode"]
        == 905
    )
    with freeze_time(timezone.now() + timedelta(hours=2)):
        assert (
            auth_get(tenant, "/identity/v2/auth/access_token", issued.access_token).json()[
                "ErrorCode"
            ]
            == 906
        )
        assert (
            auth_get(
                tenant, "/identity/v2/auth/access_token/invalidate", issued.access_token
            ).json()["ErrorCode"]
            == 906
        )
    assert AccessToken.objects.get().revoked_at is None
    assert not AuditEvent.objects.filter(action="session.invalidated").exists()
