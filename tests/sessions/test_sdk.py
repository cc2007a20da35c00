"""The session methods of the LoginRadius Python SDK (LoginRadius-v2 11.7.0), unmodified,
against a live server."""

import re
import uuid

import pytest

from portal.models import AuditEvent
from tests.factories import AccountFactory
from tokens.commands import SessionIssue
from tokens.models import TokenFamily

GUID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
pytestmark = pytest.mark.django_db(transaction=True)


def pair_ok(result):
    assert "ErrorCode" not in result and "errorCode" not in result, result
    assert set(result) == {"access_token", "refresh_token", "expires_in"}
    assert GUID.match(result["access_token"]) and GUID.match(result["refresh_token"])
    return result


@pytest.mark.parametrize("signing", [False, True])
def test_account_session_methods(lr_sdk, tenant, signing):
    sdk = lr_sdk(signing=signing)
    account = AccountFactory(tenant=tenant)

    first = pair_ok(sdk.account.get_access_token_by_uid(account.uid))
    assert TokenFamily.objects.get(account=account).is_impersonation

    second = pair_ok(sdk.account.refresh_access_token_by_refresh_token(first["refresh_token"]))
    assert second["refresh_token"] != first["refresh_token"]

    assert sdk.account.revoke_refresh_token(second["refresh_token"]) == {"IsDeleted": True}
    again = sdk.account.refresh_access_token_by_refresh_token(second["refresh_token"])
    assert again["ErrorCode"] == 1217

    third = pair_ok(sdk.account.get_access_token_by_uid(account.uid))
    assert sdk.account.revoke_all_refresh_token(account.uid) == {"IsDeleted": True}
    assert (
        sdk.account.refresh_access_token_by_refresh_token(third["refresh_token"])["ErrorCode"]
        == 1217
    )

    assert sdk.account.get_access_token_by_uid("0" * 32)["ErrorCode"] == 938
    assert sdk.account.revoke_refresh_token(str(uuid.uuid4()))["ErrorCode"] == 1217
    actions = set(
        AuditEvent.objects.filter(subject_uid=account.uid).values_list("action", flat=True)
    )
    assert {
        "session.impersonated",
        "session.refreshed",
        "session.revoked",
        "session.all_revoked",
    } <= actions


def test_legacy_social_methods(lr_sdk, tenant, issue):
    sdk = lr_sdk()
    account = AccountFactory(tenant=tenant)
    issued = issue(
        account,
        SessionIssue(
            device={
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
                "ip": "192.0.2.7",
            }
        ),
    )

    exchanged = sdk.social.exchange_access_token(str(uuid.uuid4()))
    assert exchanged["errorCode"] == 905

    valid = sdk.social.validate_access_token(issued.access_token)
    assert valid["access_token"] == issued.access_token and valid["expires_in"].endswith("Z")

    for result in (
        sdk.social.get_active_session(issued.access_token),
        sdk.social.get_active_session_by_account_id(account.uid),
        sdk.social.get_active_session_by_profile_id(account.provider_id),
    ):
        assert result["nextcursor"] == 0, result
        assert [(s["Browser"], s["Os"], s["Ip"]) for s in result["data"]] == [
            ("Firefox", "Linux", "192.0.2.7")
        ]

    refreshed = pair_ok(sdk.social.refresh_access_token(issued.access_token))
    assert (
        sdk.social.validate_access_token(refreshed["access_token"])["access_token"]
        == refreshed["access_token"]
    )

    assert sdk.social.in_validate_access_token(refreshed["access_token"]) == {"isPosted": True}
    assert sdk.social.validate_access_token(refreshed["access_token"])["errorCode"] == 905
    assert sdk.social.validate_access_token("not-a-token")["errorCode"] == 905


def test_authentication_token_methods(lr_sdk, tenant, issue):
    sdk = lr_sdk()
    account = AccountFactory(tenant=tenant)
    issued = issue(account)

    valid = sdk.authentication.auth_validate_access_token(issued.access_token)
    assert valid == {"access_token": issued.access_token, "expires_in": valid["expires_in"]}
    info = sdk.authentication.get_access_token_info(issued.access_token)
    assert info["Uid"] == account.uid and info["access_token"] == issued.access_token

    assert sdk.authentication.auth_in_validate_access_token(
        issued.access_token, prevent_refresh=True
    ) == {"IsPosted": True}
    assert sdk.authentication.auth_validate_access_token(issued.access_token)["ErrorCode"] == 905
    assert (
        sdk.account.refresh_access_token_by_refresh_token(issued.refresh_token)["ErrorCode"] == 1217
    )
