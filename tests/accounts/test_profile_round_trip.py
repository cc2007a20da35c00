"""A profile read and written back through the LoginRadius Python SDK changes nothing; keys an
update does not know, or may not write, are ignored (or, for unknown keys, refused when the
tenant asks for strict keys); a null clears a field only with `nullsupport`."""

from datetime import UTC, datetime

import pytest

from accounts import services
from accounts.commands import IdentityLink
from accounts.models import Account
from portal.audit import Actor
from portal.models import AuditEvent
from portal.services import tenant_update_settings
from portal.tenant_commands import TenantSettingsChange
from security import services as security_services
from security.commands import AccountLock
from tests.accounts.conftest import state
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Round-trip-pass-93"


def ok(result):
    assert isinstance(result, dict) and "ErrorCode" not in result, result
    return result


def error(result, code: int) -> dict:
    assert isinstance(result, dict) and result.get("ErrorCode") == code, result
    return result


def everything(tenant, uid: str) -> tuple:
    """What a write can touch, with the account's `modified` and its events."""
    account = Account.objects.get(tenant=tenant, uid=uid)
    return (
        state(tenant),
        account.modified,
        account.email_verified,
        account.secret_hashes,
        list(account.emails.order_by("id").values_list("type", "value", "verified")),
        list(AuditEvent.objects.filter(tenant=tenant).values_list("id", flat=True)),
    )


@pytest.fixture
def sdk(lr_sdk):
    return lr_sdk()


@pytest.fixture
def rich(sdk, tenant):
    """An account with something in every kind of field the profile shows: addresses,
    custom fields of each type, nested objects, a verified and an unverified address, a
    phone, a linked identity, a role, sign-in dates, false flags and an emptied list."""
    created = ok(
        sdk.account.create_account(
            {
                "Email": [{"Type": "Primary", "Value": "rich@example.com"}],
                "Password": PASSWORD,
                "UserName": "richuser",
                "PhoneId": "+14155552671",
                "PhoneIdVerified": True,
                "EmailVerified": True,
                "Prefix": "Dr",
                "FirstName": "Rich",
                "MiddleName": "Q",
                "LastName": "Person",
                "BirthDate": "10-12-1985",
                "Gender": "F",
                "Website": "https://rich.example.com",
                "Company": "Acme",
                "About": "Line one\nline two, ünïcode ✓",
                "Country": {"Code": "IN", "Name": "India"},
                "CustomFields": {"plan": "gold", "seats": 5, "trial": False, "ratio": 1.5, "n": ""},
                "Addresses": [
                    {"Type": "Home", "Address1": "1 Main St", "City": "Pune", "Country": "IN"},
                    {"Type": "Work", "City": "Oslo", "Geo": {"Lat": 59.9, "Lng": 10.7}},
                ],
                "PhoneNumbers": [{"PhoneType": "Mobile", "PhoneNumber": "+14155550100"}],
                "Languages": [],
                "ExternalIds": [{"Source": "crm", "SourceId": "C-1"}],
                "Interests": [{"InterestedType": "Music", "InterestedName": "Jazz"}],
                "Positions": ["Engineer", "Lead"],
                "IsEmailSubscribed": True,
                "IsTwoFactorAuthenticationEnabled": False,
                "DisableLogin": False,
                "PrivacyPolicy": {"Version": "v1"},
                "PINInfo": {"PIN": "4321"},
                "SessionLimit": 3,
                "RegistrationSource": "https://rich.example.com/signup",
            }
        )
    )
    uid = created["Uid"]
    ok(sdk.account.upsert_email({"Email": [{"Type": "Secondary", "Value": "rich2@ex.com"}]}, uid))
    ok(sdk.role.create_roles({"roles": [{"name": "editor", "permissions": {"edit": True}}]}))
    ok(sdk.role.assign_roles_by_uid({"roles": ["editor"]}, uid))
    account = Account.objects.get(uid=uid)
    services.account_identity_link(
        IdentityLink(provider="google", provider_id="g-1"),
        tenant=tenant,
        actor=Actor.system("test"),
        account=account,
    )
    Account.objects.filter(pk=account.pk).update(
        last_login_date=datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=UTC),
        no_of_logins=3,
        last_login_location="Pune, India",
    )
    return uid


def test_the_rich_profile_shows_every_kind_of_value(sdk, rich):
    profile = ok(sdk.account.get_account_profile_by_uid(rich))
    assert len(profile["Email"]) == 2 and profile["Roles"] == ["editor"]
    assert profile["Identities"] and profile["LastLoginDate"] == "2026-03-04T05:06:07.891Z"
    assert profile["CustomFields"]["trial"] is False and profile["Languages"] is None
    assert profile["IsTwoFactorAuthenticationEnabled"] is False


@pytest.mark.parametrize("null_support", [None, False, True])
def test_a_profile_read_and_written_back_changes_nothing(sdk, tenant, rich, null_support):
    profile = ok(sdk.account.get_account_profile_by_uid(rich))
    before = everything(tenant, rich)
    answer = ok(sdk.account.update_account_by_uid(profile, rich, null_support=null_support))
    assert answer == profile
    assert everything(tenant, rich) == before
    assert ok(sdk.account.get_account_profile_by_uid(rich)) == profile


@pytest.mark.parametrize("null_support", [None, True])
def test_a_locked_account_read_and_written_back_stays_locked(sdk, tenant, rich, null_support):
    security_services.account_lock(
        AccountLock(locked_type="LoginAttempts"),
        tenant=tenant,
        actor=Actor.system("test"),
        account=Account.objects.get(uid=rich),
    )
    profile = ok(sdk.account.get_account_profile_by_uid(rich))
    assert profile["IsLoginLocked"] is True and profile["LoginLockedType"] == "LoginAttempts"
    before = everything(tenant, rich)
    assert ok(sdk.account.update_account_by_uid(profile, rich, null_support=null_support)) == (
        profile
    )
    assert everything(tenant, rich) == before


def test_an_account_without_email_read_and_written_back_with_nullsupport(sdk, tenant):
    uid = ok(sdk.account.create_account({"PhoneId": "+14155552672", "Password": PASSWORD}))["Uid"]
    profile = ok(sdk.account.get_account_profile_by_uid(uid))
    assert profile["Email"] is None and profile["Password"] is None
    before = everything(tenant, uid)
    assert ok(sdk.account.update_account_by_uid(profile, uid, null_support=True)) == profile
    assert everything(tenant, uid) == before


def test_values_an_update_would_refuse_as_new_read_back_unchanged(sdk, tenant):
    """Values stored by an import, which an update refuses when they are new, are no change
    when sent back as they are shown; a new value is still checked."""
    uid = AccountFactory(
        tenant=tenant,
        email="imported@example.com",
        profile={
            "BirthDate": "1985-10-12",
            "Positions": [["nested", "list"]],
            "Country": {"Code": 91, "Name": "India"},
            "About": "x" * 5000,
        },
        custom_fields={"prefs": {"theme": "dark"}, "tags": ["a", "b"], "plan": "gold"},
    ).uid
    profile = ok(sdk.account.get_account_profile_by_uid(uid))
    assert profile["BirthDate"] == "1985-10-12" and profile["CustomFields"]["prefs"]
    before = everything(tenant, uid)
    for null_support in (None, True):
        assert ok(sdk.account.update_account_by_uid(profile, uid, null_support=null_support)) == (
            profile
        )
        assert everything(tenant, uid) == before
    error(sdk.account.update_account_by_uid({**profile, "BirthDate": "1985/10/12"}, uid), 968)
    changed = {**profile, "CustomFields": {**profile["CustomFields"], "prefs": {"theme": "x"}}}
    answer = error(sdk.account.update_account_by_uid(changed, uid), 1134)
    assert [e["FieldName"] for e in answer["Errors"]] == ["CustomFields"]
    assert everything(tenant, uid) == before
    changed = {**profile, "NickName": "Imp", "CustomFields": {**profile["CustomFields"], "plan": 2}}
    answer = ok(sdk.account.update_account_by_uid(changed, uid))
    assert answer["NickName"] == "Imp" and answer["CustomFields"]["plan"] == 2
    assert answer["BirthDate"] == "1985-10-12" and answer["About"] == profile["About"]
    event = AuditEvent.objects.filter(tenant=tenant, action="account.updated").get()
    assert set(event.diff) == {"NickName", "CustomFields"}


def test_a_round_trip_with_one_change_records_only_that_change(sdk, tenant, rich):
    profile = ok(sdk.account.get_account_profile_by_uid(rich))
    profile["NickName"] = "Richie"
    profile["CustomFields"]["plan"] = "platinum"
    answer = ok(sdk.account.update_account_by_uid(profile, rich, null_support=True))
    assert answer["NickName"] == "Richie" and answer["CustomFields"]["plan"] == "platinum"
    event = AuditEvent.objects.filter(tenant=tenant, action="account.updated").get()
    assert set(event.diff) == {"NickName", "CustomFields"}
    assert answer["Email"] == profile["Email"] and answer["Addresses"] == profile["Addresses"]


# ---------------------------------------------------------------- keys an update ignores

READ_ONLY_BODY = {
    "Uid": "someone-else",
    "ID": "0" * 32,
    "Provider": "facebook",
    "RegistrationProvider": "facebook",
    "FullName": "Not Derived",
    "Roles": ["admin"],
    "Identities": [{"Provider": "facebook", "ID": "fb-1"}],
    "IsCustomUid": True,
    "IsPasswordBreached": True,
    "LastPasswordChangeDate": "2020-01-01T00:00:00.000Z",
    "PasswordExpirationDate": "2020-01-01T00:00:00.000Z",
    "PreviousUids": ["old"],
    "NoOfLogins": 99,
    "FirstLogin": True,
    "PinsCount": 7,
    "SignupDate": "2020-01-01T00:00:00.000Z",
    "LastLoginDate": "2020-01-01T00:00:00.000Z",
    "LastLoginLocation": "Nowhere",
    "CreatedDate": "2020-01-01T00:00:00.000Z",
    "ModifiedDate": "2020-01-01T00:00:00.000Z",
    "UpdatedTime": "2020-01-01T00:00:00.000Z",
    "UnverifiedEmail": [{"Type": "Primary", "Value": "rich@example.com"}],
    "LoginLockedType": "Manual",
    "FollowersCount": 10,
    "Kloutscore": 3,
    "IsDeleted": False,
}


@pytest.mark.parametrize("strict", [False, True])
def test_read_only_keys_are_ignored(sdk, tenant, rich, strict):
    if strict:
        tenant_update_settings(
            TenantSettingsChange(changes={"profile_update_strict_keys": True}),
            tenant=tenant,
            actor=Actor.system("test"),
        )
    profile = ok(sdk.account.get_account_profile_by_uid(rich))
    before = everything(tenant, rich)
    assert ok(sdk.account.update_account_by_uid(READ_ONLY_BODY, rich)) == profile
    assert everything(tenant, rich) == before


def test_unknown_keys_are_ignored_by_default(sdk, tenant, rich):
    before = everything(tenant, rich)
    body = {"Favourite": "x", "nested": {"a": [1, None]}, "isvip": True, "Nothing": None}
    ok(sdk.account.update_account_by_uid(body, rich, null_support=True))
    assert everything(tenant, rich) == before
    answer = ok(sdk.account.update_account_by_uid({"Favourite": "x", "NickName": "R"}, rich))
    assert answer["NickName"] == "R" and "Favourite" not in answer
    event = AuditEvent.objects.filter(tenant=tenant, action="account.updated").get()
    assert event.diff == {"NickName": [None, "R"]}


def test_strict_keys_refuse_unknown_keys_and_change_nothing(sdk, tenant, rich):
    tenant_update_settings(
        TenantSettingsChange(changes={"profile_update_strict_keys": True}),
        tenant=tenant,
        actor=Actor.system("test"),
    )
    before = everything(tenant, rich)
    answer = error(
        sdk.account.update_account_by_uid({"NickName": "R", "Favourite": "x"}, rich), 1134
    )
    assert answer["Errors"] == [
        {
            "FieldName": "Favourite",
            "ErrorMessage": "The field Favourite is not a known profile field.",
        }
    ]
    assert everything(tenant, rich) == before
    # The whole profile read back names only keys the profile knows: still no change.
    profile = ok(sdk.account.get_account_profile_by_uid(rich))
    assert ok(sdk.account.update_account_by_uid(profile, rich)) == profile
    assert everything(tenant, rich) == before


def test_a_password_is_still_refused_and_a_null_one_ignored(sdk, tenant, rich):
    before = everything(tenant, rich)
    answer = error(sdk.account.update_account_by_uid({"Password": "Another-pass-94"}, rich), 1134)
    assert [e["FieldName"] for e in answer["Errors"]] == ["Password"]
    ok(
        sdk.account.update_account_by_uid(
            {"Password": None, "Email": None}, rich, null_support=True
        )
    )
    assert everything(tenant, rich) == before


def test_is_login_locked_false_still_unlocks(sdk, tenant, rich):
    security_services.account_lock(
        AccountLock(locked_type="LoginAttempts"),
        tenant=tenant,
        actor=Actor.system("test"),
        account=Account.objects.get(uid=rich),
    )
    profile = ok(sdk.account.get_account_profile_by_uid(rich))
    profile["IsLoginLocked"] = False
    answer = ok(sdk.account.update_account_by_uid(profile, rich))
    assert answer["IsLoginLocked"] is False and answer["LoginLockedType"] is None
    actions = list(AuditEvent.objects.filter(tenant=tenant).values_list("action", flat=True))
    assert actions.count("account.unlocked") == 1 and "account.updated" not in actions


# ---------------------------------------------------------------- nulls


def _custom(sdk, uid):
    return ok(sdk.account.get_account_profile_by_uid(uid))["CustomFields"]


@pytest.mark.parametrize("null_support", [None, False])
@pytest.mark.parametrize(
    "body",
    [
        {"Gender": None},
        {"FirstName": None},
        {"PhoneId": None},
        {"Addresses": None},
        {"Country": None},
        {"CustomFields": None},
        {"CustomFields": {"plan": None}},
        {"CustomFields": {"plan": None, "seats": 6}},
    ],
    ids=lambda body: str(body),
)
def test_without_nullsupport_a_null_is_no_change(sdk, tenant, rich, null_support, body):
    profile = ok(sdk.account.get_account_profile_by_uid(rich))
    before = everything(tenant, rich)
    answer = ok(sdk.account.update_account_by_uid(body, rich, null_support=null_support))
    if body == {"CustomFields": {"plan": None, "seats": 6}}:
        # The value beside the null is written; the null removes nothing.
        assert answer["CustomFields"] == {**profile["CustomFields"], "seats": 6}
        event = AuditEvent.objects.filter(tenant=tenant, action="account.updated").get()
        assert list(event.diff) == ["CustomFields"]
        return
    assert answer == profile
    assert everything(tenant, rich) == before


@pytest.mark.parametrize(
    ("body", "cleared"),
    [
        ({"Gender": None}, {"Gender": None}),
        ({"FirstName": None}, {"FirstName": None, "FullName": "Q Person"}),
        ({"PhoneId": None}, {"PhoneId": None, "PhoneIdVerified": False}),
        ({"Addresses": None}, {"Addresses": None}),
        ({"Country": None}, {"Country": None}),
        ({"CustomFields": None}, {"CustomFields": None}),
    ],
    ids=lambda value: str(value),
)
def test_with_nullsupport_a_top_level_null_clears_that_field_only(sdk, tenant, rich, body, cleared):
    profile = ok(sdk.account.get_account_profile_by_uid(rich))
    answer = ok(sdk.account.update_account_by_uid(body, rich, null_support=True))
    changed = {k for k in profile if k not in ("ModifiedDate", "UpdatedTime")}
    assert {k: answer[k] for k in changed if answer[k] != profile[k]} == cleared
    assert AuditEvent.objects.filter(tenant=tenant, action="account.updated").count() == 1


def test_with_nullsupport_a_null_custom_field_clears_that_custom_field_only(sdk, tenant, rich):
    profile = ok(sdk.account.get_account_profile_by_uid(rich))
    answer = ok(
        sdk.account.update_account_by_uid(
            {"CustomFields": {"plan": None, "seats": 6, "absent": None}}, rich, null_support=True
        )
    )
    expected = {k: v for k, v in profile["CustomFields"].items() if k != "plan"} | {"seats": 6}
    assert answer["CustomFields"] == expected
    assert {
        k: v for k, v in answer.items() if k not in ("CustomFields", "ModifiedDate", "UpdatedTime")
    } == {
        k: v for k, v in profile.items() if k not in ("CustomFields", "ModifiedDate", "UpdatedTime")
    }
    event = AuditEvent.objects.filter(tenant=tenant, action="account.updated").get()
    assert event.diff["CustomFields"] == [profile["CustomFields"], expected]
    # A null for a custom field the account does not have is no change.
    before = everything(tenant, rich)
    ok(
        sdk.account.update_account_by_uid(
            {"CustomFields": {"absent": None}}, rich, null_support=True
        )
    )
    assert everything(tenant, rich) == before
