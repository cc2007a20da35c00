"""Making an email primary; reasons and tickets on email, phone and identity writes; the
has-MFA and role search filters of /api/v1/accounts."""

import pytest

from accounts import services
from accounts.api import profile_body
from accounts.commands import (
    EmailMakePrimary,
    EmailRemove,
    EmailUpsert,
    IdentityLink,
    IdentityUnlink,
    PhoneSet,
)
from accounts.errors import EmailNotInProfile
from accounts.filters import AccountFilter
from accounts.models import Account, AccountEmail
from portal.audit import Actor
from portal.crypto import encrypt
from portal.errors import DomainError, FieldRequired
from portal.models import AuditEvent
from tests.accounts.conftest import A, state

pytestmark = pytest.mark.django_db

S = "/api/v1/accounts"


def emails(account) -> list[tuple[str, str, bool]]:
    return list(
        AccountEmail.objects.filter(account=account)
        .order_by("id")
        .values_list("type", "value", "verified")
    )


@pytest.fixture
def two_emails(make_account, tenant):
    account = make_account("first@example.com")
    AccountEmail.objects.filter(account=account).update(verified=True)
    AccountEmail.objects.create(
        tenant=tenant, account=account, type="Secondary", value="second@example.com"
    )
    return account


def test_make_primary_swaps_the_types_and_keeps_verified_state(lr, tenant, actor, two_emails):
    account = services.account_email_make_primary(
        EmailMakePrimary(email="SECOND@example.com", reason="customer asked", ticket="SUP-3"),
        tenant=tenant,
        actor=actor,
        account=two_emails,
    )
    assert emails(account) == [
        ("Secondary", "first@example.com", True),
        ("Primary", "second@example.com", False),
    ]
    event = AuditEvent.objects.get(action="account_email.made_primary")
    assert (event.subject_uid, event.reason, event.ticket) == (
        account.uid,
        "customer asked",
        "SUP-3",
    )
    assert event.diff["Email"] == [
        ["Primary:first@example.com", "Secondary:second@example.com"],
        ["Secondary:first@example.com", "Primary:second@example.com"],
    ]
    profile = lr.get(f"{A}/{account.uid}").json()
    assert {(e["Type"], e["Value"]) for e in profile["Email"]} == {
        ("Secondary", "first@example.com"),
        ("Primary", "second@example.com"),
    }


def test_make_primary_keeps_each_type_naming_one_email(tenant, actor, two_emails):
    AccountEmail.objects.create(
        tenant=tenant, account=two_emails, type="Work", value="work@example.com"
    )
    services.account_email_make_primary(
        EmailMakePrimary(email="work@example.com"), tenant=tenant, actor=actor, account=two_emails
    )
    assert emails(two_emails) == [
        ("Work", "first@example.com", True),
        ("Secondary", "second@example.com", False),
        ("Primary", "work@example.com", False),
    ]


def test_making_the_primary_primary_changes_nothing(tenant, actor, two_emails):
    before = state(tenant)
    services.account_email_make_primary(
        EmailMakePrimary(email="first@example.com"), tenant=tenant, actor=actor, account=two_emails
    )
    assert state(tenant) == before


@pytest.mark.parametrize(
    ("email", "error", "code"),
    [
        ("nobody@example.com", EmailNotInProfile, "account.email_not_in_profile"),
        ("theirs@example.com", EmailNotInProfile, "account.email_not_in_profile"),
        ("", FieldRequired, "input.required"),
        (None, FieldRequired, "input.required"),
    ],
)
def test_make_primary_of_an_email_the_account_lacks_changes_nothing(
    tenant, actor, make_account, two_emails, email, error, code
):
    make_account("theirs@example.com")
    before = state(tenant)
    with pytest.raises(DomainError) as excinfo:
        services.account_email_make_primary(
            EmailMakePrimary(email=email), tenant=tenant, actor=actor, account=two_emails
        )
    assert (type(excinfo.value), excinfo.value.code) == (error, code)
    assert state(tenant) == before


def test_email_phone_and_identity_writes_record_reason_and_ticket(tenant, actor, make_account):
    account = make_account("a@example.com")
    services.account_email_upsert(
        EmailUpsert(
            emails=profile_body.email_addresses_read(
                [{"Type": "Secondary", "Value": "b@example.com"}]
            ),
            reason="r1",
            ticket="T-1",
        ),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    services.account_email_remove(
        EmailRemove(email="b@example.com", reason="r2", ticket="T-2"),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    services.account_phone_update(
        PhoneSet(phone="+14155550100", reason="r3", ticket="T-3"),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    services.account_identity_link(
        IdentityLink(provider="google", provider_id="g"),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    services.account_identity_unlink(
        IdentityUnlink(provider="google", provider_id="g", reason="r4", ticket="T-4"),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    recorded = {
        e.action: (e.reason, e.ticket) for e in AuditEvent.objects.filter(subject_uid=account.uid)
    }
    assert recorded["account_email.upserted"] == ("r1", "T-1")
    assert recorded["account_email.removed"] == ("r2", "T-2")
    assert recorded["account_phone.updated"] == ("r3", "T-3")
    assert recorded["account_identity.unlinked"] == ("r4", "T-4")


# ---------------------------------------------------------------- has_mfa and role filters


@pytest.fixture
def people(tenant, other_tenant, make_account):
    from roles.commands import AccountRolesAssign, RoleInput, RolesCreate
    from roles.services import account_roles_assign, roles_create
    from security.models import OtpFactor, PushDevice, SecurityAnswer, TotpFactor

    system = Actor.system("test")
    totp, otp, answers, push, unconfirmed, plain, vip = (
        make_account(f"p{i}@example.com") for i in range(7)
    )
    TotpFactor.objects.create(
        tenant=tenant, account=totp, secret_encrypted=encrypt("JBSWY3DPEHPK3PXP"), confirmed=True
    )
    TotpFactor.objects.create(
        tenant=tenant, account=unconfirmed, secret_encrypted=encrypt("JBSWY3DPEHPK3PXP")
    )
    OtpFactor.objects.create(
        tenant=tenant,
        account=otp,
        channel=OtpFactor.CHANNEL_SMS,
        destination="+14155550100",
        confirmed=True,
    )
    SecurityAnswer.objects.create(tenant=tenant, account=answers, question_id="q1", answer_hash="x")
    PushDevice.objects.create(tenant=tenant, account=push, device_token_encrypted=encrypt("dev"))
    roles_create(RolesCreate(roles=[RoleInput("vip", ())]), tenant=tenant, actor=system)
    account_roles_assign(
        AccountRolesAssign(roles=["vip"]), tenant=tenant, actor=system, account=vip
    )
    # The same role name and a factor in another tenant must not leak in.
    theirs = services.account_create(
        profile_body.account_create_read({"Email": [{"Type": "Primary", "Value": "x@other.io"}]}),
        tenant=other_tenant,
        actor=system,
    )
    TotpFactor.objects.create(
        tenant=other_tenant,
        account=theirs,
        secret_encrypted=encrypt("JBSWY3DPEHPK3PXP"),
        confirmed=True,
    )
    roles_create(RolesCreate(roles=[RoleInput("vip", ())]), tenant=other_tenant, actor=system)
    account_roles_assign(
        AccountRolesAssign(roles=["vip"]), tenant=other_tenant, actor=system, account=theirs
    )
    return {
        "mfa": {totp.uid, otp.uid, answers.uid, push.uid},
        "none": {unconfirmed.uid, plain.uid, vip.uid},
        "vip": {vip.uid},
    }


def found(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {r["uid"] for r in response.json()["results"]}


def test_search_by_has_mfa_and_role(lr, people):
    assert found(lr.get(S, {"has_mfa": "true"})) == people["mfa"]
    assert found(lr.get(S, {"has_mfa": "false"})) == people["none"]
    assert found(lr.get(S, {"role": "vip"})) == people["vip"]
    assert found(lr.get(S, {"role": "vip", "has_mfa": "true"})) == set()
    assert found(lr.get(S, {"role": "nobody"})) == set()
    assert found(lr.get(S, {"role": " "})) == people["mfa"] | people["none"]


def test_an_unreadable_has_mfa_value_is_refused_as_the_other_flags_are(lr, people):
    for name in ("has_mfa", "blocked"):
        body = lr.get(S, {name: "perhaps"}).json()
        assert body["code"] == "input.invalid" and [e["field"] for e in body["errors"]] == [name]


def test_search_filters_stay_few_queries(lr, people, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        lr.get(S, {"has_mfa": "true", "role": "vip"})


def test_has_mfa_and_role_on_a_given_queryset_without_tenant(tenant, people):
    base = Account.objects.filter(tenant=tenant)
    for params, expected in [
        ({"has_mfa": "true"}, people["mfa"]),
        ({"role": "vip"}, people["vip"]),
    ]:
        filterset = AccountFilter(params, queryset=base)
        assert filterset.is_valid()
        assert {a.uid for a in filterset.qs} == expected
