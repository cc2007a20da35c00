"""The tenant's password policy (accounts/password_policy.py): LoginRadius's length rules,
required character classes and Django's common-password list, each a tenant setting,
judged wherever a password is given in clear (create, set, reset by token or SMS OTP) and
answered as 1134 with a Description naming the rules that failed. Imported hashes are
never judged."""

import json

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.core.management import call_command

from accounts import password_policy, services
from accounts.api import profile_body
from accounts.commands import PasswordSet
from accounts.errors import PasswordPolicyRefused
from accounts.models import Account
from flows import token_consumption
from portal import tenant_settings
from portal.audit import Actor
from portal.console.forms import TenantSettingsForm
from portal.models import TENANT_SETTING_DEFAULTS, AuditEvent
from tests.accounts.conftest import state
from tests.factories import AccountFactory
from tokens.commands import TokenIssue
from tokens.models import MultipurposeToken
from tokens.services.multipurpose import token_issue

# Six lowercase letters and digits: LoginRadius's default policy (6 to 32 characters)
# accepts it; Django's MinimumLengthValidator (8), which judged account passwords before,
# refused it.
LR_ACCEPTED = "kx92pq"
TOO_SHORT = "kx92p"
TOO_LONG = "Kx92pq-" * 4 + "abcde"  # 33 characters
COMMON = "qwerty123"
OLD_PASSWORD = "Old-pass-for-policy-55"

POLICY_SETTINGS = {
    "password_min_length": 6,
    "password_max_length": 32,
    "password_required_character_classes": [],
    "password_common_check": True,
}


def set_settings(tenant, **values):
    tenant.settings = {**tenant.settings, **values}
    tenant.save()


def ok(result):
    assert isinstance(result, dict) and "ErrorCode" not in result, result
    return result


def refusal(body, *sentences):
    """The LoginRadius answer of a password the policy refuses: 1134, the failed rules'
    sentences as the Description and one Errors item each."""
    assert body["ErrorCode"] == 1134, body
    assert body["Message"] == "Validation failed for one or more fields"
    assert body["Description"] == " ".join(sentences)
    assert body["Errors"] == [{"FieldName": "Password", "ErrorMessage": s} for s in sentences]
    return body


SHORT = "The password is too short: it must have at least 6 characters."
LONG = "The password is too long: it may have at most 32 characters."
COMMON_SENTENCE = "The password is too common: it is on a list of much-used passwords."


# ---------------------------------------------------------------- the policy itself


def test_the_defaults_are_loginradius_lengths_without_classes_and_the_common_list():
    assert {name: TENANT_SETTING_DEFAULTS[name] for name in password_policy.SETTINGS} == (
        POLICY_SETTINGS
    )
    policy = password_policy.PasswordPolicy.from_settings({})
    assert (policy.min_length, policy.max_length) == (6, 32)
    assert policy.required_classes == () and policy.common_check is True


def test_each_rule_names_itself_and_every_failed_rule_is_listed():
    judge = password_policy.password_judge
    judge(LR_ACCEPTED, settings={})
    judge("A" * 32, settings={})
    judge("20402040", settings={})  # all digits, not a common one
    with pytest.raises(PasswordPolicyRefused) as exc:
        judge(TOO_SHORT, settings={})
    assert exc.value.rules == ("min_length",) and exc.value.message == SHORT
    with pytest.raises(PasswordPolicyRefused) as exc:
        judge(TOO_LONG, settings={})
    assert exc.value.rules == ("max_length",)
    with pytest.raises(PasswordPolicyRefused) as exc:
        judge(COMMON, settings={})
    assert exc.value.rules == ("common",)
    with pytest.raises(PasswordPolicyRefused) as exc:
        judge(" QWERTY123 ", settings={})  # Django's list ignores case and outer spaces
    assert exc.value.rules == ("common",)
    every_class = {"password_required_character_classes": list(password_policy.CHARACTER_CLASSES)}
    judge("aB3$xyzw", settings=every_class)
    with pytest.raises(PasswordPolicyRefused) as exc:
        judge("abc", settings=every_class)
    assert exc.value.rules == (
        "min_length",
        "character_class.uppercase",
        "character_class.digit",
        "character_class.special",
        "common",
    )
    assert [f.code for f in exc.value.field_errors] == list(exc.value.rules)
    assert {f.field for f in exc.value.field_errors} == {"Password"}


def test_settings_written_outside_the_form_still_give_a_usable_policy():
    make = password_policy.PasswordPolicy.from_settings
    policy = make(
        {
            "password_min_length": "x",
            "password_max_length": 10_000,
            "password_required_character_classes": "Digit, emoji",
            "password_common_check": 0,
        }
    )
    assert (policy.min_length, policy.max_length) == (6, 256)
    assert policy.required_classes == ("digit",) and policy.common_check is False
    policy = make({"password_min_length": 40, "password_max_length": 8})
    assert (policy.min_length, policy.max_length) == (40, 40)
    assert make({"password_min_length": -3}).min_length == 1
    assert make({"password_required_character_classes": None}).required_classes == ()


# ---------------------------------------------------------------- the LoginRadius API (SDK)


@pytest.mark.django_db(transaction=True)
def test_defaults_accept_a_password_django_refused_and_it_signs_in(lr_sdk, tenant):
    sdk = lr_sdk()
    created = ok(
        sdk.account.create_account(
            {"Email": [{"Type": "Primary", "Value": "six@example.com"}], "Password": LR_ACCEPTED},
            fields="Uid",
        )
    )
    account = Account.objects.get(uid=created["Uid"])
    assert check_password(LR_ACCEPTED, account.password)
    assert ok(sdk.account.set_account_password_by_uid("20402040", account.uid))["PasswordHash"]
    signed_in = ok(
        sdk.authentication.login_by_email({"email": "six@example.com", "password": "20402040"})
    )
    assert signed_in["access_token"] and signed_in["Profile"]["Uid"] == account.uid


@pytest.mark.django_db(transaction=True)
def test_create_refuses_each_rule_with_1134_and_creates_nothing(lr_sdk, tenant):
    sdk = lr_sdk()
    set_settings(tenant, password_required_character_classes=["uppercase", "special"])
    before = state(tenant)

    def create(password):
        return sdk.account.create_account(
            {"Email": [{"Type": "Primary", "Value": "new@example.com"}], "Password": password}
        )

    upper = "The password must contain an uppercase letter."
    special = "The password must contain a special character (neither a letter nor a digit)."
    refusal(create(TOO_SHORT), SHORT, upper, special)
    refusal(create(TOO_LONG), LONG)
    refusal(create("P@ssw0rd"), COMMON_SENTENCE)
    refusal(create("Kx92pq7"), special)
    assert state(tenant) == before
    ok(create("Kx92pq!"))


@pytest.mark.django_db(transaction=True)
def test_set_password_refuses_each_rule_and_keeps_the_old_one(lr_sdk, tenant):
    sdk = lr_sdk()
    account = AccountFactory(tenant=tenant)
    account.password = make_password(OLD_PASSWORD)
    account.save(update_fields=["password"])
    set_settings(tenant, password_required_character_classes=["digit"])
    before = state(tenant)
    refusal(sdk.account.set_account_password_by_uid(TOO_SHORT, account.uid), SHORT)
    refusal(
        sdk.account.set_account_password_by_uid("k" * 33, account.uid),
        LONG,
        "The password must contain a digit.",
    )
    refusal(sdk.account.set_account_password_by_uid("password1", account.uid), COMMON_SENTENCE)
    refusal(
        sdk.account.set_account_password_by_uid("kxqpzwvb", account.uid),
        "The password must contain a digit.",
    )
    assert state(tenant) == before
    account.refresh_from_db()
    assert check_password(OLD_PASSWORD, account.password)
    assert not AuditEvent.objects.filter(action="account_password.set").exists()


@pytest.mark.django_db(transaction=True)
def test_the_tenants_settings_change_the_outcome(lr_sdk, tenant, other_tenant):
    sdk = lr_sdk()
    account = AccountFactory(tenant=tenant)
    set_uid = account.uid

    # Stricter than the default: the password LoginRadius accepts by default is refused.
    set_settings(tenant, password_min_length=12)
    refusal(
        sdk.account.set_account_password_by_uid(LR_ACCEPTED, set_uid),
        "The password is too short: it must have at least 12 characters.",
    )
    # Looser: shorter, longer and common passwords become acceptable one setting at a time.
    set_settings(tenant, password_min_length=4, password_max_length=64)
    ok(sdk.account.set_account_password_by_uid("kx9p", set_uid))
    ok(sdk.account.set_account_password_by_uid("Kx92pq-" * 9, set_uid))
    refusal(sdk.account.set_account_password_by_uid(COMMON, set_uid), COMMON_SENTENCE)
    set_settings(tenant, password_common_check=False)
    ok(sdk.account.set_account_password_by_uid(COMMON, set_uid))
    account.refresh_from_db()
    assert check_password(COMMON, account.password)
    # Another tenant's settings are its own.
    assert other_tenant.setting("password_min_length") == 6
    with pytest.raises(PasswordPolicyRefused):
        services.account_password_set(
            PasswordSet(password=COMMON),
            tenant=other_tenant,
            actor=Actor.system("test"),
            account=AccountFactory(tenant=other_tenant),
        )


@pytest.mark.django_db(transaction=True)
def test_reset_by_token_applies_the_policy_and_leaves_the_token_unspent(lr_sdk, tenant):
    set_settings(tenant, send_cooldown_seconds=0, password_required_character_classes=["digit"])
    account = AccountFactory(tenant=tenant, email="reset@example.com")
    account.password = make_password(OLD_PASSWORD)
    account.save(update_fields=["password"])
    sdk = lr_sdk()
    reset = ok(sdk.account.get_forgot_password_token("reset@example.com", send_email=False))[
        "ForgotToken"
    ]
    before = state(tenant)

    def use(password):
        return sdk.authentication.reset_password_by_reset_token(
            {"resettoken": reset, "password": password}
        )

    refusal(use(TOO_SHORT), SHORT)
    refusal(use("no-digits-here"), "The password must contain a digit.")
    refusal(use("password1"), COMMON_SENTENCE)
    assert state(tenant) == before
    assert MultipurposeToken.objects.get(account=account).used_at is None
    account.refresh_from_db()
    assert check_password(OLD_PASSWORD, account.password)
    assert use(LR_ACCEPTED) == {"IsPosted": True}
    account.refresh_from_db()
    assert check_password(LR_ACCEPTED, account.password)


@pytest.mark.django_db
def test_reset_by_sms_otp_applies_the_policy(tenant):
    account = AccountFactory(tenant=tenant)
    account.phone_id = "+14155550177"
    account.password = make_password(OLD_PASSWORD)
    account.save(update_fields=["phone_id", "password"])
    otp = token_issue(
        TokenIssue(
            kind=MultipurposeToken.KIND_SMS, purpose="forgotpassword", destination="+14155550177"
        ),
        tenant=tenant,
        account=account,
        actor=Actor.system("test"),
    ).value
    with pytest.raises(PasswordPolicyRefused) as exc:
        token_consumption.password_reset_by_otp(
            tenant=tenant, phone="+14155550177", otp=otp, password=TOO_SHORT
        )
    assert exc.value.rules == ("min_length",)
    assert MultipurposeToken.objects.get(account=account).used_at is None
    token_consumption.password_reset_by_otp(
        tenant=tenant, phone="+14155550177", otp=otp, password=LR_ACCEPTED
    )
    account.refresh_from_db()
    assert check_password(LR_ACCEPTED, account.password)


@pytest.mark.django_db
def test_a_native_create_is_judged_by_the_same_policy(tenant):
    set_settings(tenant, password_max_length=8)
    before = state(tenant)
    with pytest.raises(PasswordPolicyRefused) as exc:
        services.account_create(
            profile_body.account_create_read({"UserName": "u", "Password": "Kx92pq-long"}),
            tenant=tenant,
            actor=Actor.system("test"),
        )
    assert exc.value.rules == ("max_length",)
    assert state(tenant) == before


# ---------------------------------------------------------------- hashes are never judged


@pytest.mark.django_db(transaction=True)
def test_an_imported_hash_is_not_judged_and_signs_in(lr_sdk, tenant, tmp_path):
    # "abc" breaks every rule of a strict policy; its hash is imported all the same.
    set_settings(
        tenant,
        password_min_length=12,
        password_required_character_classes=list(password_policy.CHARACTER_CLASSES),
    )
    hashed = make_password("abc")
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"Uid": "imported-1", "Email": "imp@example.com", "Password": hashed}) + "\n"
    )
    call_command("accounts_import", str(path), "--tenant", tenant.slug, "--no-progress")
    account = Account.objects.get(tenant=tenant, uid="imported-1")
    assert account.password == hashed
    sdk = lr_sdk()
    assert ok(sdk.account.get_account_password_hash_by_uid("imported-1")) == {
        "PasswordHash": hashed
    }
    signed_in = ok(
        sdk.authentication.login_by_email({"email": "imp@example.com", "password": "abc"})
    )
    assert signed_in["Profile"]["Uid"] == "imported-1"
    # A new password given in clear is judged by the same policy.
    refusal(
        sdk.account.set_account_password_by_uid("abc", "imported-1"),
        *(
            "The password is too short: it must have at least 12 characters.",
            "The password must contain an uppercase letter.",
            "The password must contain a digit.",
            "The password must contain a special character (neither a letter nor a digit).",
            COMMON_SENTENCE,
        ),
    )


# ---------------------------------------------------------------- the console's settings form


def form_data(tenant, **changes):
    data = {"reason": "policy"}
    for name in TENANT_SETTING_DEFAULTS:
        value = changes.get(name, tenant.setting(name))
        if value is False:
            continue  # an unchecked box is not sent
        data[name] = "on" if value is True else value
    return data


@pytest.mark.django_db
def test_the_settings_form_offers_the_policy_with_help(tenant):
    form = TenantSettingsForm(tenant=tenant)
    for name in password_policy.SETTINGS:
        help_text = tenant_settings.BY_NAME[name].help
        assert help_text and form.fields[name].help_text.startswith(help_text)
    assert form.fields["password_required_character_classes"].help_text.endswith("Default: none.")
    assert [c for c, _ in form.fields["password_required_character_classes"].choices] == list(
        password_policy.CHARACTER_CLASSES
    )


@pytest.mark.django_db
def test_the_settings_service_refuses_lengths_out_of_range(tenant):
    from portal.errors import InvalidInput
    from portal.services import tenant_update_settings
    from portal.tenant_commands import TenantSettingsChange

    for changes in (
        {"password_min_length": 0},
        {"password_max_length": 257},
        {"password_min_length": 10, "password_max_length": 8},
        {"password_required_character_classes": ["emoji"]},
    ):
        with pytest.raises(InvalidInput) as refused:
            tenant_update_settings(
                TenantSettingsChange(changes=changes), tenant=tenant, actor=Actor.system("test")
            )
        assert {e.field for e in refused.value.field_errors} <= set(password_policy.SETTINGS)
        tenant.refresh_from_db()
        assert all(tenant.setting(name) == TENANT_SETTING_DEFAULTS[name] for name in changes)


@pytest.mark.django_db
def test_the_settings_form_changes_only_what_differs(tenant):
    set_settings(tenant, password_required_character_classes=["lowercase", "digit"])
    same = TenantSettingsForm(
        form_data(tenant, password_required_character_classes=["digit", "lowercase"]),
        tenant=tenant,
    )
    assert same.is_valid(), same.errors
    assert same.changes() == {}
    changed = TenantSettingsForm(
        form_data(
            tenant,
            password_min_length=8,
            password_max_length=8,
            password_required_character_classes=["special", "uppercase"],
            password_common_check=False,
        ),
        tenant=tenant,
    )
    assert changed.is_valid(), changed.errors
    assert changed.changes() == {
        "password_min_length": 8,
        "password_max_length": 8,
        "password_required_character_classes": ["uppercase", "special"],
        "password_common_check": False,
    }
