"""The real LoginRadius Python SDK (11.7.0) drives every Accounts method against a live
server, plain and with request signing."""

import pytest

from accounts import services
from accounts.commands import IdentityLink
from accounts.models import Account
from portal.audit import Actor
from tests.waiting import wait_for_next_second
from tokens.commands import SessionIssue
from tokens.services.sessions import session_issue

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.parametrize("signing", [False, True]),
]

PASSWORD = "Sdk-contract-pass-91"


def ok(result):
    assert isinstance(result, dict) and "ErrorCode" not in result, result
    return result


def test_sdk_drives_every_accounts_method(lr_sdk, signing, tenant):
    sdk = lr_sdk(signing=signing)
    acc = sdk.account

    created = ok(
        acc.create_account(
            {
                "Email": [{"Type": "Primary", "Value": "sdk+1@example.com"}],
                "Password": PASSWORD,
                "UserName": "sdkuser",
                "PhoneId": "+14155552671",
                "FirstName": "Sdk",
                "PrivacyPolicy": {"Version": "v1"},
                "Consents": {
                    "Data": [{"ConsentOptionId": "news", "IsAccepted": True}],
                    "Events": [{"Event": "Register", "IsCustom": False}],
                },
                "EmailVerified": True,
                "PhoneIdVerified": True,
            },
            fields="Uid,Email,FirstName",
        )
    )
    assert set(created) == {"Uid", "Email", "FirstName"}
    uid = created["Uid"]

    # Token side: the signed-in account reads its policy history and unlinks an identity.
    account = Account.objects.get(uid=uid)
    services.account_identity_link(
        IdentityLink(provider="google", provider_id="g-1"),
        tenant=tenant,
        actor=Actor.system("t"),
        account=account,
    )
    token = session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.account(uid)
    ).access_token
    assert (
        ok(sdk.authentication.get_privacy_policy_history_by_access_token(token))["Current"][
            "Version"
        ]
        == "v1"
    )
    assert ok(sdk.authentication.unlink_social_identities(token, "google", "g-1")) == {
        "IsDeleted": True
    }
    assert not account.identities.exists()

    assert ok(acc.get_account_profile_by_email("sdk+1@example.com"))["Uid"] == uid
    assert ok(acc.get_account_profile_by_user_name("SdkUser"))["Uid"] == uid
    assert ok(acc.get_account_profile_by_phone("+14155552671"))["Uid"] == uid
    assert ok(acc.get_account_profile_by_uid(uid, fields="Uid,FirstName")) == {
        "Uid": uid,
        "FirstName": "Sdk",
    }

    updated = ok(acc.update_account_by_uid({"LastName": "Client", "Gender": "F"}, uid))
    assert updated["LastName"] == "Client" and updated["FullName"] == "Sdk Client"
    assert ok(acc.update_account_by_uid({"Gender": None}, uid, null_support=True))["Gender"] is None

    emails = ok(
        acc.upsert_email({"Email": [{"Type": "Secondary", "Value": "sdk2@example.com"}]}, uid)
    )["Email"]
    assert {"Type": "Secondary", "Value": "sdk2@example.com"} in emails
    assert len(ok(acc.remove_email("sdk2@example.com", uid))["Email"]) == 1
    assert ok(acc.update_phone_id_by_uid("+442071838750", uid, fields="PhoneId")) == {
        "PhoneId": "+442071838750"
    }

    stored = Account.objects.get(uid=uid).password
    assert ok(acc.get_account_password_hash_by_uid(uid)) == {"PasswordHash": stored}
    new_hash = ok(acc.set_account_password_by_uid("Another-Sdk-pass-92", uid))["PasswordHash"]
    assert new_hash == Account.objects.get(uid=uid).password != stored

    assert ok(acc.invalidate_account_email_verification(uid)) == {"IsPosted": True}
    assert ok(acc.update_phone_id_by_uid("+14155552671", uid))["PhoneId"] == "+14155552671"
    ok(acc.update_account_by_uid({"PhoneIdVerified": True}, uid))
    assert ok(acc.reset_phone_id_verification_by_uid(uid)) == {"IsPosted": True}

    identities = ok(acc.get_account_identities_by_email("sdk+1@example.com"))
    assert [p["Uid"] for p in identities["Data"]] == [uid]

    history = ok(acc.get_privacy_policy_history_by_uid(uid))
    assert history["Current"]["Version"] == "v1"
    logs = ok(sdk.consent_management.get_consent_logs_by_uid(uid))
    assert logs["ConsentLogs"][0]["ConsentLogs"] == [{"ConsentId": "news", "Event": "Accepted"}]

    sott = ok(sdk.sott.generate_sott(15))
    assert "*" in sott["Sott"] and sott["ExpiryTime"].endswith("Z")

    assert ok(acc.account_update_uid({"newUid": f"sdk-renamed-{int(signing)}"}, uid)) == {
        "IsPosted": True
    }
    uid = f"sdk-renamed-{int(signing)}"
    assert ok(acc.get_account_profile_by_uid(uid))["Uid"] == uid

    # Errors come back as LoginRadius error bodies the SDK hands over as dicts.
    assert acc.get_account_profile_by_uid("0" * 32)["ErrorCode"] == 938
    assert (
        acc.create_account({"Email": [{"Type": "Primary", "Value": "sdk+1@example.com"}]})[
            "ErrorCode"
        ]
        == 936
    )

    if signing:
        # The SDK signs a GET as `:{}`, as it signs this DELETE: in the same second as the
        # GET of the same URL above they would share a digest, refused as a replay (1208).
        wait_for_next_second()
    assert ok(acc.delete_account_by_uid(uid))["IsDeleted"] is True
    ok(acc.create_account({"Email": [{"Type": "Primary", "Value": "bye@example.com"}]}))
    assert ok(acc.account_delete_by_email("bye@example.com")) == {
        "IsDeleted": True,
        "RecordsDeleted": 1,
    }
    assert not Account.objects.filter(tenant=tenant).exists()
