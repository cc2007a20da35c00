"""Fields LoginRadius fills that the responses must not leave empty: the identity providers
of the forgot-password and email-token responses, `UnverifiedEmail` on the profile, and the
`Host` of a consent log. Driven through the real LoginRadius Python SDK where it has the
method, raw HTTP otherwise."""

from urllib.parse import urlsplit

import pytest

from accounts import services
from accounts.commands import IdentityLink, IdentityUnlink
from accounts.models import Account, ConsentLog
from portal.audit import Actor
from tests.accounts.conftest import GOOD_PASSWORD, A
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

CONSENTS = {
    "Data": [{"ConsentOptionId": "news", "IsAccepted": True}],
    "Events": [{"Event": "Register", "IsCustom": False}],
}


def ok(result):
    assert isinstance(result, dict) and "ErrorCode" not in result, result
    return result


def link(account, provider: str, provider_id: str) -> None:
    services.account_identity_link(
        IdentityLink(provider=provider, provider_id=provider_id),
        tenant=account.tenant,
        actor=Actor.system("test"),
        account=account,
    )


# ------------------------------------------------------------------ IdentityProviders


def test_token_responses_name_the_linked_identity_providers(lr_sdk, tenant):
    sdk = lr_sdk()
    social = AccountFactory(tenant=tenant, email="social@example.com")
    link(social, "facebook", "fb-1")
    link(social, "google", "g-1")
    link(social, "facebook", "fb-2")  # a second identity of one provider: named once
    AccountFactory(tenant=tenant, email="plain@example.com")

    forgot = ok(sdk.account.get_forgot_password_token("social@example.com"))
    assert forgot["IdentityProviders"] == ["Facebook", "Google"]
    token = ok(
        sdk.account.multipurpose_email_token_generation(
            {"email": "social@example.com"}, "forgotpassword"
        )
    )
    assert token["IdentityProviders"] == ["Facebook", "Google"]

    # Without linked identities: [] on forgot/token, null on emailtoken, as LoginRadius shows.
    assert ok(sdk.account.get_forgot_password_token("plain@example.com"))["IdentityProviders"] == []
    plain = ok(
        sdk.account.multipurpose_email_token_generation(
            {"email": "plain@example.com"}, "passwordlesslogin"
        )
    )
    assert plain["IdentityProviders"] is None

    # An unlinked identity is no longer named.
    services.account_identity_unlink(
        IdentityUnlink(provider="google", provider_id="g-1"),
        tenant=tenant,
        actor=Actor.system("test"),
        account=social,
    )
    assert ok(sdk.account.get_forgot_password_token("social@example.com"))["IdentityProviders"] == [
        "Facebook"
    ]


# ------------------------------------------------------------------ UnverifiedEmail


def test_unverified_email_lists_the_addresses_not_proved_yet(lr_sdk, tenant):
    sdk = lr_sdk()
    uid = ok(
        sdk.account.create_account(
            {
                "Email": [{"Type": "Primary", "Value": "proved@example.com"}],
                "Password": GOOD_PASSWORD,
                "EmailVerified": True,
            }
        )
    )["Uid"]
    assert ok(sdk.account.get_account_profile_by_uid(uid))["UnverifiedEmail"] is None

    added = ok(
        sdk.account.upsert_email(
            {"Email": [{"Type": "Secondary", "Value": "new@example.com"}]}, uid
        )
    )
    pending = [{"Type": "Secondary", "Value": "new@example.com"}]
    assert added["UnverifiedEmail"] == pending
    assert {"Type": "Secondary", "Value": "new@example.com"} in added["Email"]
    assert ok(sdk.account.get_account_profile_by_uid(uid, fields="UnverifiedEmail")) == {
        "UnverifiedEmail": pending
    }
    assert (
        ok(sdk.account.get_account_profile_by_email("proved@example.com"))["UnverifiedEmail"]
        == pending
    )

    # Proving the address (the emailed token, used on the token side) clears it.
    token = ok(sdk.account.get_email_verification_token("new@example.com"))["VerificationToken"]
    ok(sdk.authentication.verify_email(token))
    assert ok(sdk.account.get_account_profile_by_uid(uid))["UnverifiedEmail"] is None

    # Marking the account's emails unverified lists every one of them again.
    ok(sdk.account.invalidate_account_email_verification(uid))
    assert ok(sdk.account.get_account_profile_by_uid(uid))["UnverifiedEmail"] == [
        {"Type": "Primary", "Value": "proved@example.com"},
        {"Type": "Secondary", "Value": "new@example.com"},
    ]


def test_an_account_created_unverified_shows_its_email_unverified(lr, tenant):
    body = {"Email": [{"Type": "Primary", "Value": "fresh@example.com"}], "Password": GOOD_PASSWORD}
    created = lr.post(A, body).json()
    assert created["EmailVerified"] is False
    assert created["UnverifiedEmail"] == [{"Type": "Primary", "Value": "fresh@example.com"}]
    listed = lr.get(f"{A}", {"email": "fresh@example.com"}).json()
    assert listed["UnverifiedEmail"] == created["UnverifiedEmail"]


# ------------------------------------------------------------------ consent log Host


def test_consent_logs_record_the_host_consent_was_given_on(lr_sdk, lr, live_server, tenant):
    sdk = lr_sdk()
    uid = ok(
        sdk.account.create_account(
            {
                "Email": [{"Type": "Primary", "Value": "consent@example.com"}],
                "Password": GOOD_PASSWORD,
                "Consents": CONSENTS,
            }
        )
    )["Uid"]
    logs = ok(sdk.consent_management.get_consent_logs_by_uid(uid))["ConsentLogs"]
    assert [log["Host"] for log in logs] == [urlsplit(live_server.url).netloc]

    # A back end relays its user's host in X-Origin-Host; an update of consents records it.
    update = {"Consents": {**CONSENTS, "Events": [{"Event": "Update", "IsCustom": False}]}}
    answer = lr.put(f"{A}/{uid}", update, HTTP_X_ORIGIN_HOST="Shop.Example.com:8443")
    assert answer.status_code == 200, answer.json()
    # Something that is not a plain host is not kept: the request's own host is.
    answer = lr.put(f"{A}/{uid}", update, HTTP_X_ORIGIN_HOST="evil.example/<script>")
    assert answer.status_code == 200, answer.json()

    logs = ok(sdk.consent_management.get_consent_logs_by_uid(uid))["ConsentLogs"]
    assert [(log["UpdateType"], log["Host"]) for log in logs] == [
        ("Update", "testserver"),
        ("Update", "shop.example.com:8443"),
        ("Register", urlsplit(live_server.url).netloc),
    ]
    account = Account.objects.get(uid=uid)
    assert ConsentLog.objects.filter(account=account).count() == 3
