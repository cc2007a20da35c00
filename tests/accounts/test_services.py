import pytest
from django.contrib.auth.hashers import check_password

from accounts import errors as e
from accounts import selectors, services
from accounts.api import profile_body
from accounts.commands import (
    AccountBlock,
    AccountDelete,
    AccountUnblock,
    EmailMarkVerified,
    EmailRemove,
    EmailUpsert,
    IdentityLink,
    IdentityUnlink,
    PasswordSet,
    PhoneMarkVerified,
    PhoneSet,
    UidChange,
)
from accounts.models import Account, AccountEmail, ConsentLog, PrivacyPolicyAcceptance
from portal.audit import Actor
from portal.errors import DomainError, FieldRequired, InvalidInput
from portal.models import AuditEvent
from tests.accounts.conftest import GOOD_PASSWORD, state
from tokens.commands import SessionIssue, TokenIssue
from tokens.errors import AccessTokenInvalid
from tokens.models import AccessToken, MultipurposeToken
from tokens.selectors import access_token_resolve
from tokens.services.multipurpose import token_issue
from tokens.services.sessions import session_issue

pytestmark = pytest.mark.django_db


def refused(exc_info) -> tuple[type[DomainError], str]:
    """What a service refused with: the domain error's class and its stable code."""
    return type(exc_info.value), exc_info.value.code


def test_create_stores_identifiers_profile_and_audits_without_the_hash(tenant, actor):
    account = services.account_create(
        profile_body.account_create_read(
            {
                "email": [{"type": "primary", "value": "Ann@Example.com"}],
                "password": GOOD_PASSWORD,
                "firstname": "Ann",
                "UserName": "ann",
                "PhoneId": "+1 415 555 2671",
                "Gender": "F",
                "BirthDate": "10-12-1985",
                "CustomFields": {"tier": "gold"},
                "Company": "<b>ACME</b>",
            }
        ),
        tenant=tenant,
        actor=actor,
    )
    assert account.uid and len(account.uid) == 32 and not account.is_custom_uid
    assert account.phone_id == "+14155552671"
    assert account.first_name == "Ann" and account.profile["Gender"] == "F"
    assert account.profile["Company"] == "<b>ACME</b>"  # stored as given, escaped by JSON on output
    assert check_password(GOOD_PASSWORD, account.password)
    assert [e.value for e in account.emails.all()] == ["Ann@Example.com"]
    event = AuditEvent.objects.get(action="account.created", subject_uid=account.uid)
    assert "Password" not in event.diff and account.password not in str(event.diff)
    assert event.diff["FirstName"] == [None, "Ann"]


def test_create_with_custom_uid_and_bad_uid(tenant, actor):
    account = services.account_create(
        profile_body.account_create_read({"Uid": "cust_01-A", "UserName": "x1"}),
        tenant=tenant,
        actor=actor,
    )
    assert account.uid == "cust_01-A" and account.is_custom_uid
    with pytest.raises(DomainError) as exc:
        services.account_create(
            profile_body.account_create_read({"Uid": "bad uid!", "UserName": "x2"}),
            tenant=tenant,
            actor=actor,
        )
    assert refused(exc) == (e.UidInvalid, "account.uid_invalid")
    with pytest.raises(DomainError) as exc:
        services.account_create(
            profile_body.account_create_read({"Uid": "cust_01-A", "UserName": "x3"}),
            tenant=tenant,
            actor=actor,
        )
    assert refused(exc) == (e.UidTaken, "account.uid_taken")


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        (
            {"Email": [{"Type": "Primary", "Value": "not-an-email"}]},
            e.EmailInvalid,
            "account.email_invalid",
        ),
        (
            {"Email": [{"Value": "a@example.com"}]},
            e.EmailTypeRequired,
            "account.email_type_required",
        ),
        (
            {
                "Email": [
                    {"Type": "Primary", "Value": "a@example.com"},
                    {"Type": "Secondary", "Value": "A@example.com"},
                ]
            },
            e.EmailsNotDistinct,
            "account.emails_not_distinct",
        ),
        (
            {
                "Email": [
                    {"Type": "Primary", "Value": "a@example.com"},
                    {"Type": "primary", "Value": "b@example.com"},
                ]
            },
            e.PrimaryEmailNotUnique,
            "account.primary_email_not_unique",
        ),
        ({"PhoneId": "12"}, e.PhoneInvalid, "account.phone_invalid"),
        ({"PhoneId": "+1 abc"}, e.PhoneInvalid, "account.phone_invalid"),
        (
            {"UserName": "u", "BirthDate": "1985-10-12"},
            e.BirthDateInvalid,
            "account.birth_date_invalid",
        ),
        (
            {"UserName": "u", "Addresses": [{"City": "X"}]},
            e.AddressTypeRequired,
            "account.address_type_required",
        ),
        (
            {"UserName": "u", "Addresses": [{"Type": "Home"}, {"Type": "home"}]},
            e.AddressTypesNotDistinct,
            "account.address_types_not_distinct",
        ),
        ({"FirstName": "Ann"}, FieldRequired, "input.required"),
        ({"UserName": "u", "Bogus": 1}, InvalidInput, "input.invalid"),
        ({"UserName": "u", "FirstName": ["x"]}, InvalidInput, "input.invalid"),
        (
            {"UserName": "u", "Password": "short"},
            e.PasswordPolicyRefused,
            "account.password_policy_refused",
        ),
        ({"UserName": "u", "IsDeleted": True}, InvalidInput, "input.invalid"),
    ],
)
def test_create_refuses_bad_input_and_changes_nothing(tenant, actor, data, error, code):
    before = state(tenant)
    with pytest.raises(DomainError) as exc:
        services.account_create(profile_body.account_create_read(data), tenant=tenant, actor=actor)
    assert refused(exc) == (error, code)
    assert state(tenant) == before


def test_weak_password_lists_every_policy_rule_it_fails(tenant, actor):
    with pytest.raises(DomainError) as exc:
        services.account_create(
            profile_body.account_create_read({"UserName": "u", "Password": "pass"}),
            tenant=tenant,
            actor=actor,
        )
    assert refused(exc) == (e.PasswordPolicyRefused, "account.password_policy_refused")
    messages = [f.message for f in exc.value.field_errors]
    assert all(f.field == "Password" for f in exc.value.field_errors)
    assert any("too short" in m for m in messages) and any("too common" in m for m in messages)


def test_duplicates_are_refused_case_insensitively(tenant, actor, make_account, other_tenant):
    make_account(email="ann@example.com", UserName="Ann", PhoneId="+14155552671")
    for data, error, code in [
        (
            {"Email": [{"Type": "Primary", "Value": "ANN@example.com"}]},
            e.EmailTaken,
            "account.email_taken",
        ),
        ({"UserName": "ANN"}, e.UsernameTaken, "account.username_taken"),
        ({"PhoneId": "14155552671"}, e.PhoneTaken, "account.phone_taken"),
    ]:
        with pytest.raises(DomainError) as exc:
            services.account_create(
                profile_body.account_create_read(data), tenant=tenant, actor=actor
            )
        assert refused(exc) == (error, code)
    # Another tenant is another namespace.
    other = services.account_create(
        profile_body.account_create_read(
            {
                "Email": [{"Type": "Primary", "Value": "ann@example.com"}],
                "UserName": "ann",
                "PhoneId": "+14155552671",
            }
        ),
        tenant=other_tenant,
        actor=actor,
    )
    assert other.tenant == other_tenant


def test_update_merges_arrays_and_custom_fields_and_deletes_with_op(tenant, actor, make_account):
    account = make_account(
        Addresses=[{"Type": "Home", "City": "Paris"}, {"Type": "Work", "City": "Lyon"}],
        PhoneNumbers=[{"PhoneType": "Mobile", "PhoneNumber": "1"}],
        CustomFields={"a": "1", "b": "2"},
    )
    account = services.account_update(
        profile_body.account_changes_read(
            {
                "Addresses": [
                    {"Type": "Home", "op": "delete"},
                    {"Type": "Work", "City": "Nice"},
                    {"Type": "Other", "City": "Rome"},
                ],
                "PhoneNumbers": [{"PhoneType": "Mobile", "PhoneNumber": "1", "op": "delete"}],
                "CustomFields": {"b": "3", "c": "4"},
                "FirstName": "Zoe",
            }
        ),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    assert account.profile["Addresses"] == [
        {"Type": "Work", "City": "Nice"},
        {"Type": "Other", "City": "Rome"},
    ]
    assert "PhoneNumbers" not in account.profile
    assert account.custom_fields == {"a": "1", "b": "3", "c": "4"}
    event = AuditEvent.objects.filter(action="account.updated", subject_uid=account.uid).first()
    assert event.diff["FirstName"][1] == "Zoe" and "Addresses" in event.diff


def test_update_nulls_clear_only_with_null_support(tenant, actor, make_account):
    account = make_account(FirstName="Ann", Gender="F", CustomFields={"a": "1"})
    account = services.account_update(
        profile_body.account_changes_read({"FirstName": None, "Gender": None}),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    assert account.first_name == "Ann" and account.profile["Gender"] == "F"
    account = services.account_update(
        profile_body.account_changes_read(
            {"FirstName": None, "Gender": None, "CustomFields": {"a": None}}, null_support=True
        ),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    assert (
        account.first_name == "" and "Gender" not in account.profile and account.custom_fields == {}
    )


def test_update_refuses_password_and_unknown_fields(tenant, actor, make_account):
    account = make_account()
    before = state(tenant)
    with pytest.raises(DomainError) as exc:
        services.account_update(
            profile_body.account_changes_read({"Password": "x" * 20, "Nope": 1}, strict_keys=True),
            tenant=tenant,
            actor=actor,
            account=account,
        )
    assert refused(exc) == (InvalidInput, "input.invalid")
    assert {f.field for f in exc.value.field_errors} == {"Nope"}
    with pytest.raises(DomainError) as exc:
        services.account_update(
            # Without strict keys an unknown key is ignored; the password is still refused.
            profile_body.account_changes_read({"Password": "x" * 20, "Nope": 1}),
            tenant=tenant,
            actor=actor,
            account=account,
        )
    assert [f.field for f in exc.value.field_errors] == ["Password"]
    assert state(tenant) == before


def test_update_ignores_read_only_profile_keys(tenant, actor, make_account):
    account = make_account()
    profile = selectors.account_profile(account=account)
    profile.pop("Password")
    profile["FirstName"] = "Back"
    account = services.account_update(
        profile_body.account_changes_read(profile), tenant=tenant, actor=actor, account=account
    )
    assert account.first_name == "Back"


def open_session(account) -> str:
    """A real sign-in session of the account; its access token."""
    return session_issue(
        SessionIssue(), tenant=account.tenant, account=account, actor=Actor.account(account.uid)
    ).access_token


def assert_sessions_ended_by(account, token: str, cause_action: str) -> None:
    """Every session of the account is revoked, by an event the change caused."""
    assert not AccessToken.objects.filter(account=account, revoked_at__isnull=True).exists()
    with pytest.raises(AccessTokenInvalid):
        access_token_resolve(tenant=account.tenant, token=token)
    cause = AuditEvent.objects.filter(action=cause_action, subject_uid=account.uid).latest("id")
    assert (
        AuditEvent.objects.get(action="session.all_revoked", subject_uid=account.uid).caused_by
        == cause.pk
    )


def test_update_is_active_false_blocks_and_revokes_sessions(tenant, actor, make_account):
    account = make_account()
    token = open_session(account)
    account = services.account_update(
        profile_body.account_changes_read({"IsActive": False}),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    assert not account.is_active
    assert_sessions_ended_by(account, token, "account.updated")


def test_an_update_that_does_not_block_leaves_the_sessions(tenant, actor, make_account):
    account = make_account()
    open_session(account)
    services.account_update(
        profile_body.account_changes_read({"FirstName": "Still"}),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    assert AccessToken.objects.filter(account=account, revoked_at__isnull=True).exists()
    assert not AuditEvent.objects.filter(action="session.all_revoked").exists()


def test_block_unblock_audited(tenant, actor, make_account):
    account = make_account()
    token = open_session(account)
    services.account_block(
        AccountBlock(reason="fraud", ticket="T-1"), tenant=tenant, actor=actor, account=account
    )
    assert not Account.objects.get(pk=account.pk).is_active
    assert_sessions_ended_by(account, token, "account.blocked")
    assert AuditEvent.objects.get(action="session.all_revoked").reason == "fraud"
    services.account_unblock(AccountUnblock(), tenant=tenant, actor=actor, account=account)
    assert Account.objects.get(pk=account.pk).is_active
    actions = list(
        AuditEvent.objects.filter(subject_uid=account.uid).values_list("action", "reason", "ticket")
    )
    assert ("account.blocked", "fraud", "T-1") in actions
    assert "account.unblocked" in {a for a, _, _ in actions}


def test_delete_revokes_then_deletes_and_leaves_a_tombstone(tenant, actor, make_account):
    account = make_account(FirstName="Secret", PhoneId="+14155552671")
    token = open_session(account)
    uid = account.uid
    services.account_delete(
        AccountDelete(reason="gdpr"), tenant=tenant, actor=actor, account=account
    )
    # The sessions were revoked (their cached tokens tombstoned) before the rows went.
    with pytest.raises(AccessTokenInvalid):
        access_token_resolve(tenant=tenant, token=token)
    revoked = AuditEvent.objects.get(action="session.all_revoked", subject_uid=uid)
    assert revoked.caused_by == AuditEvent.objects.get(action="account.deleted", subject_uid=uid).pk
    assert revoked.diff["revoked_tokens"] == [None, 2]
    assert (
        not Account.objects.filter(uid=uid).exists()
        and not AccountEmail.objects.filter(tenant=tenant).exists()
    )
    tomb = AuditEvent.objects.get(action="account.deleted", subject_uid=uid)
    assert tomb.diff == {} and tomb.reason == "gdpr"
    assert "Secret" not in str(tomb.__dict__) and "ann@example.com" not in str(tomb.__dict__)


def test_email_upsert_by_type_and_remove(tenant, actor, make_account, other_tenant):
    account = make_account()
    services.account_email_upsert(
        EmailUpsert(
            emails=profile_body.email_addresses_read(
                [{"Type": "Secondary", "Value": "b@example.com"}]
            )
        ),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    services.account_email_upsert(
        EmailUpsert(
            emails=profile_body.email_addresses_read(
                [{"Type": "Secondary", "Value": "c@example.com"}]
            )
        ),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    assert list(account.emails.values_list("type", "value")) == [
        ("Primary", "ann@example.com"),
        ("Secondary", "c@example.com"),
    ]
    with pytest.raises(DomainError) as exc:
        services.account_email_remove(
            EmailRemove(email="zzz@example.com"), tenant=tenant, actor=actor, account=account
        )
    assert refused(exc) == (e.EmailNotInProfile, "account.email_not_in_profile")
    services.account_email_remove(
        EmailRemove(email="C@example.com"), tenant=tenant, actor=actor, account=account
    )
    with pytest.raises(DomainError) as exc:
        services.account_email_remove(
            EmailRemove(email="ann@example.com"), tenant=tenant, actor=actor, account=account
        )
    assert refused(exc) == (e.LastEmail, "account.last_email")
    assert list(account.emails.values_list("value", flat=True)) == ["ann@example.com"]


def test_email_upsert_refuses_an_email_of_another_account(tenant, actor, make_account):
    make_account(email="taken@example.com")
    account = make_account(email="mine@example.com")
    before = state(tenant)
    with pytest.raises(DomainError) as exc:
        services.account_email_upsert(
            EmailUpsert(
                emails=profile_body.email_addresses_read(
                    [{"Type": "Secondary", "Value": "TAKEN@example.com"}]
                )
            ),
            tenant=tenant,
            actor=actor,
            account=account,
        )
    assert refused(exc) == (e.EmailTaken, "account.email_taken")
    assert state(tenant) == before


def test_email_and_phone_mark_verified(tenant, actor, make_account):
    account = make_account(PhoneId="+14155552671")
    services.account_email_mark_verified(
        EmailMarkVerified(email="ANN@example.com"), tenant=tenant, actor=actor, account=account
    )
    services.account_phone_mark_verified(
        PhoneMarkVerified(), tenant=tenant, actor=actor, account=account
    )
    account.refresh_from_db()
    assert account.email_verified and account.phone_id_verified and account.emails.get().verified


def test_password_set_validates_hashes_revokes_and_retires(tenant, actor, make_account):
    account = make_account()
    token = open_session(account)
    forgot = token_issue(
        TokenIssue(
            kind=MultipurposeToken.KIND_EMAIL,
            purpose="forgotpassword",
            destination="ann@example.com",
        ),
        tenant=tenant,
        account=account,
        actor=actor,
    )
    with pytest.raises(DomainError) as exc:
        services.account_password_set(
            PasswordSet(password="password"), tenant=tenant, actor=actor, account=account
        )
    assert refused(exc) == (e.PasswordPolicyRefused, "account.password_policy_refused")
    assert AccessToken.objects.filter(account=account, revoked_at__isnull=True).exists()
    account = services.account_password_set(
        PasswordSet(password="Another-long-pass-77"), tenant=tenant, actor=actor, account=account
    )
    assert check_password("Another-long-pass-77", account.password)
    assert_sessions_ended_by(account, token, "account_password.set")
    assert MultipurposeToken.objects.get(pk=forgot.token.pk).retired_at is not None
    event = AuditEvent.objects.get(action="account_password.set", subject_uid=account.uid)
    assert account.password not in str(event.diff)


@pytest.mark.real_hasher
def test_password_is_argon2_and_verify_upgrades_old_hashes(tenant, actor, make_account, settings):
    account = make_account()
    assert account.password.startswith("argon2$")
    from django.contrib.auth.hashers import make_password

    Account.objects.filter(pk=account.pk).update(
        password=make_password(GOOD_PASSWORD, hasher="pbkdf2_sha256")
    )
    account.refresh_from_db()
    assert services.account_password_verify(account=account, password=GOOD_PASSWORD)
    account.refresh_from_db()
    assert account.password.startswith("argon2$")
    assert not services.account_password_verify(account=account, password="wrong")


def test_login_record_counts(tenant, make_account):
    account = make_account()
    services.account_login_record(tenant=tenant, account=account)
    services.account_login_record(tenant=tenant, account=account)
    account.refresh_from_db()
    assert account.no_of_logins == 2 and account.last_login_date is not None


def test_uid_update_keeps_previous_uid(tenant, actor, make_account):
    account = make_account()
    old = account.uid
    account = services.account_uid_update(
        UidChange(new_uid="new-uid_1"), tenant=tenant, actor=actor, account=account
    )
    assert account.uid == "new-uid_1" and account.profile["PreviousUids"] == [old]
    other = make_account(email="b@example.com")
    with pytest.raises(DomainError) as exc:
        services.account_uid_update(
            UidChange(new_uid="new-uid_1"), tenant=tenant, actor=actor, account=other
        )
    assert refused(exc) == (e.UidTaken, "account.uid_taken")
    with pytest.raises(DomainError) as exc:
        services.account_uid_update(
            UidChange(new_uid="no spaces"), tenant=tenant, actor=actor, account=other
        )
    assert refused(exc) == (e.UidInvalid, "account.uid_invalid")


def test_privacy_policy_and_consents_are_recorded(tenant, actor, make_account):
    account = make_account(
        PrivacyPolicy={"Version": "v1"},
        Consents={
            "Data": [{"ConsentOptionId": "marketing", "IsAccepted": True}],
            "Events": [{"Event": "Register", "IsCustom": False}],
        },
    )
    services.account_update(
        profile_body.account_changes_read({"PrivacyPolicy": {"Version": "v1"}}),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    services.account_update(
        profile_body.account_changes_read(
            {
                "PrivacyPolicy": {"Version": "v2"},
                "Consents": {
                    "Data": [{"ConsentOptionId": "marketing", "IsAccepted": False}],
                    "Events": [{"Event": "Update"}],
                },
            }
        ),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    history = selectors.privacy_policy_history(tenant=tenant, account=account)
    assert history["Current"]["Version"] == "v2" and [h["Version"] for h in history["History"]] == [
        "v1"
    ]
    assert PrivacyPolicyAcceptance.objects.filter(account=account).count() == 2
    logs = selectors.consent_logs(tenant=tenant, account=account)["ConsentLogs"]
    assert [log["UpdateType"] for log in logs] == ["Update", "Register"]
    assert logs[0]["ConsentLogs"] == [{"ConsentId": "marketing", "Event": "Revoked"}]
    assert ConsentLog.objects.filter(account=account).count() == 2


def test_security_question_answers_are_checked_here_and_stored_by_the_caller(
    tenant, actor, make_account
):
    from security.models import SecurityAnswer

    account = make_account()
    with pytest.raises(DomainError) as exc:
        services.account_update(
            profile_body.account_changes_read({"SecurityQuestionAnswer": ["Blue"]}),
            tenant=tenant,
            actor=actor,
            account=account,
        )
    assert [f.field for f in exc.value.field_errors] == ["SecurityQuestionAnswer"]
    services.account_update(
        profile_body.account_changes_read({"SecurityQuestionAnswer": {"q1": "Blue"}}),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    assert not SecurityAnswer.objects.filter(account=account).exists()
    assert "Blue" not in str(Account.objects.get(pk=account.pk).profile)


def test_identity_link_unlink_rules(tenant, actor, make_account):
    account = make_account()
    other = make_account(email="other@example.com")
    services.account_identity_link(
        IdentityLink(
            provider="Google",
            provider_id="g1",
            emails=profile_body.identity_emails_read(["g@example.com"]),
        ),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    with pytest.raises(DomainError) as exc:
        services.account_identity_link(
            IdentityLink(provider="google", provider_id="g1"),
            tenant=tenant,
            actor=actor,
            account=other,
        )
    assert refused(exc) == (e.IdentityTaken, "account.identity_taken")
    assert [a.uid for a in selectors.accounts_by_email(tenant=tenant, email="G@example.com")] == [
        account.uid
    ]
    services.account_identity_unlink(
        IdentityUnlink(provider="google", provider_id="g1"),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    assert not account.identities.exists()


def test_identity_unlink_never_removes_the_last_way_to_sign_in(tenant, actor):
    account = services.account_create(
        profile_body.account_create_read(
            {"Email": [{"Type": "Primary", "Value": "s@example.com"}]}
        ),
        tenant=tenant,
        actor=actor,
    )
    services.account_identity_link(
        IdentityLink(provider="facebook", provider_id="f1"),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    with pytest.raises(DomainError) as exc:
        services.account_identity_unlink(
            IdentityUnlink(provider="facebook", provider_id="f1"),
            tenant=tenant,
            actor=actor,
            account=account,
        )
    assert refused(exc) == (e.LastSignInMethod, "account.last_sign_in_method")
    assert account.identities.count() == 1
    services.account_identity_link(
        IdentityLink(provider="google", provider_id="g2"),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    services.account_identity_unlink(
        IdentityUnlink(provider="facebook", provider_id="f1"),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    assert list(account.identities.values_list("provider", flat=True)) == ["google"]


def test_search_text_follows_writes(tenant, actor, make_account):
    account = make_account(FirstName="Ann", LastName="Lee")
    services.account_email_upsert(
        EmailUpsert(
            emails=profile_body.email_addresses_read([{"Type": "Work", "Value": "Work@Corp.io"}])
        ),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    services.account_phone_update(
        PhoneSet(phone="+442071838750"), tenant=tenant, actor=actor, account=account
    )
    account.refresh_from_db()
    for part in ("ann lee", "work@corp.io", "+442071838750", account.uid):
        assert part in account.search_text
