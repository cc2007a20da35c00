"""The account seen from its own access token (Authentication API): the profile, emails,
password change and delete confirmation, through the LoginRadius Python SDK where it has the
method, and the two token-side calls this server does not serve.

Tokens are real: a password sign-in (plain), a token-side reauthentication (elevated) and
the manage `access_token?uid=` call (impersonation)."""

import json
import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from rest_framework.test import APIClient

from accounts.api.views.token_side import NOT_SERVED_LINK, NOT_SERVED_UNLOCK
from accounts.models import Account, AccountEmail
from portal import security_model
from portal.crypto import decrypt
from portal.models import AuditEvent
from tests.factories import AccountFactory
from tests.hardening.test_access_matrix import changed, snapshot
from tokens.models import OutboxMessage

A = "/identity/v2/auth"
M = "/identity/v2/manage/account"
PASSWORD = "Token-side-passw0rd!"
NEW_PASSWORD = "Another-long-passw0rd!"
PHONE = "+14155552671"


def make_holder(tenant, email="holder@example.com", **fields) -> Account:
    account = AccountFactory(tenant=tenant, email=email, phone_id=PHONE, **fields)
    account.password = make_password(PASSWORD)
    account.save()
    return account


def sign_in(tenant, email="holder@example.com", password=PASSWORD) -> str:
    response = APIClient().post(
        f"{A}/login?{urlencode({'apikey': tenant.api_key})}",
        {"email": email, "password": password},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()["access_token"]


def impersonate(credential, account) -> str:
    response = APIClient().get(
        f"{M}/access_token?{urlencode({'apikey': credential.tenant.api_key, 'uid': account.uid, 'reason': 'ticket'})}",
        HTTP_X_LOGINRADIUS_APISECRET=credential.raw,
    )
    assert response.status_code == 200, response.json()
    return response.json()["access_token"]


def call(tenant, token, method, path, body=None, **query):
    url = f"{path}?{urlencode({'apikey': tenant.api_key, **query})}"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    client = APIClient()
    if method == "get":
        return client.get(url, **headers)
    return getattr(client, method)(url, body if body is not None else {}, format="json", **headers)


def elevate(tenant, token):
    response = call(tenant, token, "put", f"{A}/account/reauth/password", {"password": PASSWORD})
    assert response.status_code == 200, response.json()


def refusal(response):
    body = response.json()
    return body.get("ErrorCode"), body.get("Description")


def emails_of(account) -> list[tuple[str, str, bool]]:
    return [
        (e.type, e.value, e.verified)
        for e in AccountEmail.objects.filter(account=account).order_by("id")
    ]


def mailed_token(recipient: str) -> str:
    """The token in the link of the last email delivered to `recipient`."""
    [*_, sent] = [m for m in mail.outbox if m.to == [recipient]]
    return re.search(r"vtoken=([0-9a-f]{32})", sent.body).group(1)


def ok(result):
    assert isinstance(result, dict) and "ErrorCode" not in result, result
    return result


# ---- through the SDK ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_sdk_reads_and_updates_the_profile_sending_back_unchanged_email_and_phone(
    lr_sdk, lr, tenant
):
    account = make_holder(tenant)
    sdk = lr_sdk()
    token = sign_in(tenant)

    profile = ok(sdk.authentication.get_profile_by_access_token(token))
    assert profile == lr.get(f"{M}/{account.uid}").json()
    assert profile["Password"] is None
    assert ok(sdk.authentication.get_profile_by_access_token(token, fields="Uid,FirstName")) == {
        "Uid": account.uid,
        "FirstName": account.first_name,
    }

    # The profile sent back with a new first name: its Email and PhoneId are unchanged, so a
    # plain token may send them.
    model = {
        "FirstName": "Renamed",
        "Email": [{"Type": "Primary", "Value": "holder@example.com"}],
        "PhoneId": PHONE,
        "EmailVerified": not profile["EmailVerified"],  # a back end's: ignored here
    }
    answer = ok(sdk.authentication.update_profile_by_access_token(token, model))
    assert answer["IsPosted"] is True
    assert answer["Data"]["FirstName"] == "Renamed"
    account.refresh_from_db()
    assert account.first_name == "Renamed" and account.phone_id == PHONE
    assert account.email_verified == profile["EmailVerified"]
    assert emails_of(account) == [("Primary", "holder@example.com", False)]
    event = AuditEvent.objects.filter(action="account.updated").latest("id")
    assert (event.actor_type, event.subject_uid) == ("account", account.uid)


@pytest.mark.django_db(transaction=True)
def test_sdk_changes_the_password_with_the_old_one_and_refuses_a_wrong_one(lr_sdk, tenant):
    account = make_holder(tenant)
    sdk = lr_sdk()
    token = sign_in(tenant)
    before = account.password

    wrong = sdk.authentication.change_password(token, NEW_PASSWORD, "not-the-password")
    assert wrong["ErrorCode"] == 966
    account.refresh_from_db()
    assert account.password == before
    assert not AuditEvent.objects.filter(action="account_password.set").exists()

    assert ok(sdk.authentication.change_password(token, NEW_PASSWORD, PASSWORD)) == {
        "IsPosted": True
    }
    event = AuditEvent.objects.get(action="account_password.set")
    assert (event.actor_type, event.subject_uid) == ("account", account.uid)
    # A new password ends every session, the one that changed it included.
    assert "ErrorCode" in sdk.authentication.get_profile_by_access_token(token)
    sign_in(tenant, password=NEW_PASSWORD)
    old = APIClient().post(
        f"{A}/login?{urlencode({'apikey': tenant.api_key})}",
        {"email": "holder@example.com", "password": PASSWORD},
        format="json",
    )
    assert old.status_code == 401


@pytest.mark.usefixtures("eager_tasks")
@pytest.mark.django_db(transaction=True)
def test_sdk_delete_confirmation_email_is_consumed_by_the_delete_route(lr_sdk, tenant):
    account = make_holder(tenant)
    sdk = lr_sdk()
    token = sign_in(tenant)

    answer = ok(sdk.authentication.delete_account_with_email_confirmation(token))
    assert answer == {"IsDeleteRequestAccepted": True}
    assert Account.objects.filter(pk=account.pk).exists()
    delete_token = mailed_token("holder@example.com")

    assert ok(sdk.authentication.delete_account_by_delete_token(delete_token)) == {"IsPosted": True}
    assert not Account.objects.filter(pk=account.pk).exists()


@pytest.mark.usefixtures("eager_tasks")
@pytest.mark.django_db(transaction=True)
def test_sdk_adds_an_email_with_an_elevated_token_and_the_key_only_get_verifies_it(lr_sdk, tenant):
    account = make_holder(tenant)
    sdk = lr_sdk()
    token = sign_in(tenant)

    refused = sdk.authentication.add_email(token, "second@example.com", "Secondary")
    assert (refused["ErrorCode"], refused["Description"]) == (
        1143,
        security_model.ELEVATION_REQUIRED,
    )
    assert emails_of(account) == [("Primary", "holder@example.com", False)]

    elevate(tenant, token)
    assert ok(sdk.authentication.add_email(token, "second@example.com", "Secondary")) == {
        "IsPosted": True
    }
    assert emails_of(account)[-1] == ("Secondary", "second@example.com", False)
    verification = mailed_token("second@example.com")

    # The verification link needs no access token, only the API key.
    verified = APIClient().get(
        f"{A}/email?{urlencode({'apikey': tenant.api_key, 'verificationtoken': verification})}"
    )
    assert verified.status_code == 200, verified.json()
    assert verified.json() == {"IsPosted": True, "Data": None}
    assert emails_of(account)[-1] == ("Secondary", "second@example.com", True)

    assert ok(sdk.authentication.remove_email(token, "second@example.com")) == {"IsDeleted": True}
    assert emails_of(account) == [("Primary", "holder@example.com", False)]


# ---- contact, password and answers in a profile update --------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"Email": [{"Type": "Primary", "Value": "taken-over@example.com"}]},
        {"Email": [{"Type": "Secondary", "Value": "extra@example.com"}]},
        {"PhoneId": "+14155550199"},
    ],
)
def test_a_changed_email_or_phone_needs_an_elevated_token(tenant, body):
    account = make_holder(tenant)
    token = sign_in(tenant)
    before = snapshot()
    refused = call(tenant, token, "put", f"{A}/account", {**body, "FirstName": "X"})
    assert refused.status_code == 403
    assert refusal(refused) == (1143, security_model.ELEVATION_REQUIRED)
    assert not changed(before, snapshot())

    elevate(tenant, token)
    accepted = call(tenant, token, "put", f"{A}/account", {**body, "FirstName": "X"})
    assert accepted.status_code == 200, accepted.json()
    account.refresh_from_db()
    assert account.first_name == "X"
    if "PhoneId" in body:
        assert account.phone_id == body["PhoneId"]
    else:
        assert body["Email"][0]["Value"] in [value for _, value, _ in emails_of(account)]


@pytest.mark.django_db
def test_the_password_in_a_profile_update_is_ignored_unchanged_and_needs_elevation_changed(
    tenant,
):
    account = make_holder(tenant)
    token = sign_in(tenant)
    same = call(tenant, token, "put", f"{A}/account", {"Password": PASSWORD, "City": "Lyon"})
    assert same.status_code == 200, same.json()
    assert same.json()["Data"]["City"] == "Lyon"
    assert not AuditEvent.objects.filter(action="account_password.set").exists()

    before = snapshot()
    other = call(tenant, token, "put", f"{A}/account", {"Password": NEW_PASSWORD})
    assert refusal(other) == (1143, security_model.ELEVATION_REQUIRED)
    assert not changed(before, snapshot())

    elevate(tenant, token)
    accepted = call(tenant, token, "put", f"{A}/account", {"Password": NEW_PASSWORD})
    assert accepted.status_code == 200, accepted.json()
    assert AuditEvent.objects.filter(action="account_password.set").count() == 1
    account.refresh_from_db()
    sign_in(tenant, password=NEW_PASSWORD)


@pytest.mark.django_db
def test_security_answers_sent_back_unchanged_are_ignored_and_new_ones_need_elevation(tenant, lr):
    from security.models import SecurityAnswer

    account = make_holder(tenant)
    token = sign_in(tenant)  # (answers in force make a sign-in ask for a second factor)
    set_by_back_end = lr.put(f"{M}/{account.uid}", {"SecurityQuestionAnswer": {"q1": "Paris"}})
    assert set_by_back_end.status_code == 200, set_by_back_end.json()
    stored = list(SecurityAnswer.objects.filter(account=account).values_list("answer_hash"))

    same = call(tenant, token, "put", f"{A}/account", {"SecurityQuestionAnswer": {"q1": "paris"}})
    assert same.status_code == 200, same.json()
    refused = call(tenant, token, "put", f"{A}/account", {"SecurityQuestionAnswer": {"q1": "Rome"}})
    assert refusal(refused) == (1143, security_model.ELEVATION_REQUIRED)
    assert list(SecurityAnswer.objects.filter(account=account).values_list("answer_hash")) == (
        stored
    )


@pytest.mark.django_db
def test_a_new_pin_in_a_profile_update_needs_elevation(tenant):
    make_holder(tenant)
    token = sign_in(tenant)
    before = snapshot()
    refused = call(tenant, token, "put", f"{A}/account", {"PINInfo": {"PIN": "482913"}})
    assert refusal(refused) == (1143, security_model.ELEVATION_REQUIRED)
    assert not changed(before, snapshot())


@pytest.mark.django_db
def test_a_bad_profile_body_is_refused_and_changes_nothing(tenant):
    make_holder(tenant)
    token = sign_in(tenant)
    before = snapshot()
    response = call(
        tenant, token, "put", f"{A}/account", {"BirthDate": "not-a-date", "FirstName": "Y"}
    )
    assert response.status_code == 400
    assert response.json()["ErrorCode"] == 968
    assert not changed(before, snapshot())


# A changed value of every field the model gives a rule of its own.
CHANGED_FIELDS = {
    "Email": [{"Type": "Primary", "Value": "taken-over@example.com"}],
    "PhoneId": "+14155550199",
    "Password": NEW_PASSWORD,
    "PINInfo": {"PIN": "482913"},
    "SecurityQuestionAnswer": {"q1": "Rome"},
}


def test_every_field_rule_has_a_changed_value_here():
    assert set(CHANGED_FIELDS) == set(security_model.PROFILE_FIELD_RULES)


@pytest.mark.django_db
@pytest.mark.parametrize("field", sorted(CHANGED_FIELDS))
def test_each_protected_field_of_a_profile_update_obeys_its_rule(tenant, credential, field):
    rule = security_model.PROFILE_FIELD_RULES[field]
    account = make_holder(tenant)
    body = {field: CHANGED_FIELDS[field], "FirstName": "Changed"}
    plain = sign_in(tenant)
    for token, expected in (
        (impersonate(credential, account), security_model.IMPERSONATION_REFUSED),
        (plain, security_model.ELEVATION_REQUIRED),
    ):
        before = snapshot()
        response = call(tenant, token, "put", f"{A}/account", body)
        assert refusal(response) == (1143, expected), response.json()
        # Answers that differ from the stored ones are a wrong guess to the verifier's
        # throttle, as at a reauthentication; nothing else changes.
        counted = {"security.VerifierThrottle"} if field == "SecurityQuestionAnswer" else set()
        assert not set(changed(before, snapshot())) - counted
    assert not rule.impersonation and rule.plain == security_model.ELEVATED

    elevate(tenant, plain)
    accepted = call(tenant, plain, "put", f"{A}/account", body)
    assert accepted.status_code == 200, accepted.json()
    account.refresh_from_db()
    assert account.first_name == "Changed"


# ---- impersonation ------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_impersonation_token_edits_ordinary_fields_only(tenant, credential):
    account = make_holder(tenant)
    token = impersonate(credential, account)

    assert call(tenant, token, "get", f"{A}/account").json()["Uid"] == account.uid
    edited = call(tenant, token, "put", f"{A}/account", {"FirstName": "Support"})
    assert edited.status_code == 200, edited.json()
    event = AuditEvent.objects.filter(action="account.updated").latest("id")
    assert event.actor_type == "credential" and "impersonating" in event.actor_label

    before = snapshot()
    for method, path, body in (
        ("put", f"{A}/account", {"Email": [{"Type": "Primary", "Value": "x@example.com"}]}),
        ("put", f"{A}/account", {"PhoneId": "+14155550199"}),
        # Not even compared: the answer would tell whether a guess is the password.
        ("put", f"{A}/account", {"Password": PASSWORD}),
        ("post", f"{A}/email", {"email": "x@example.com", "type": "Secondary"}),
        ("delete", f"{A}/email", {"email": "holder@example.com"}),
        ("put", f"{A}/password/change", {"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD}),
        ("delete", f"{A}/account", None),
    ):
        response = call(tenant, token, method, path, body)
        assert refusal(response) == (1143, security_model.IMPERSONATION_REFUSED), (method, path)
    assert not changed(before, snapshot())
    assert not OutboxMessage.objects.filter(account=account, token__purpose="deleteuser").exists()


# ---- plain tokens, per rule -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_plain_token_may_change_its_password_and_ask_for_deletion_but_not_touch_emails(
    tenant,
):
    account = make_holder(tenant)
    token = sign_in(tenant)
    before = snapshot()
    for method, path, body in (
        ("post", f"{A}/email", {"email": "x@example.com", "type": "Secondary"}),
        ("delete", f"{A}/email", {"email": "holder@example.com"}),
    ):
        assert refusal(call(tenant, token, method, path, body)) == (
            1143,
            security_model.ELEVATION_REQUIRED,
        )
    assert not changed(before, snapshot())

    asked = call(tenant, token, "delete", f"{A}/account", None, deleteUrl="https://app.test/del")
    assert asked.json() == {"IsDeleteRequestAccepted": True}
    message = OutboxMessage.objects.get(account=account, token__purpose="deleteuser")
    assert "https://app.test/del" in json.loads(decrypt(message.context_encrypted))["link"]

    weak = call(
        tenant, token, "put", f"{A}/password/change", {"oldPassword": PASSWORD, "newPassword": "a"}
    )
    assert weak.status_code == 400 and weak.json()["ErrorCode"] == 1134
    missing = call(tenant, token, "put", f"{A}/password/change", {"oldPassword": PASSWORD})
    assert refusal(missing) == (908, "The newPassword is a required parameter.")


@pytest.mark.django_db
def test_removing_the_last_email_is_refused(tenant):
    account = make_holder(tenant)
    token = sign_in(tenant)
    elevate(tenant, token)
    response = call(tenant, token, "delete", f"{A}/email", {"email": "holder@example.com"})
    assert response.json()["ErrorCode"] == 1005
    assert emails_of(account) == [("Primary", "holder@example.com", False)]


@pytest.mark.django_db
def test_every_new_call_needs_the_api_key_and_a_token(tenant):
    make_holder(tenant)
    for method, path in (
        ("get", f"{A}/account"),
        ("put", f"{A}/account"),
        ("delete", f"{A}/account"),
        ("post", f"{A}/email"),
        ("delete", f"{A}/email"),
        ("put", f"{A}/password/change"),
        ("put", f"{A}/account/unlock"),
        ("post", f"{A}/socialidentity"),
    ):
        client = APIClient()
        without_key = getattr(client, method)(path, {}, format="json")
        assert without_key.json()["ErrorCode"] == 908, (method, path)
        without_token = call(tenant, None, method, path, {})
        assert without_token.json()["ErrorCode"] == 1060, (method, path)


# ---- what is not served ---------------------------------------------------------------------


@pytest.mark.django_db
def test_unlock_by_challenge_and_link_by_candidate_token_say_why_they_are_not_served(tenant):
    make_holder(tenant)
    token = sign_in(tenant)
    unlock = call(tenant, token, "put", f"{A}/account/unlock", {"g-recaptcha-response": "x"})
    assert unlock.status_code == 405
    assert refusal(unlock) == (405, NOT_SERVED_UNLOCK)
    link = call(tenant, token, "post", f"{A}/socialidentity", {"candidateToken": "c"})
    assert link.status_code == 405
    assert refusal(link) == (405, NOT_SERVED_LINK)
    # The path's unlink is still served.
    unlink = call(
        tenant, token, "delete", f"{A}/socialidentity", {"provider": "google", "providerid": "x"}
    )
    assert unlink.status_code == 404 and unlink.json()["ErrorCode"] == 404


@pytest.mark.django_db(transaction=True)
def test_sdk_unlock_and_link_calls_get_the_reason_they_are_not_served(lr_sdk, tenant):
    make_holder(tenant)
    sdk = lr_sdk()
    token = sign_in(tenant)
    unlock = sdk.authentication.unlock_account_by_token(token, {"g-recaptcha-response": "x"})
    assert (unlock["ErrorCode"], unlock["Description"]) == (405, NOT_SERVED_UNLOCK)
    link = sdk.authentication.link_social_identities(token, "candidate-token")
    assert (link["ErrorCode"], link["Description"]) == (405, NOT_SERVED_LINK)
