"""Duplicates are settled by database constraints, also when two writers race."""

import pytest

from accounts import services
from accounts.api import profile_body
from accounts.errors import EmailTaken, PhoneTaken, UidTaken, UsernameTaken
from accounts.models import Account, AccountEmail
from accounts.services import lifecycle
from portal.errors import DomainError
from tests.accounts.conftest import GOOD_PASSWORD, A
from tests.concurrency import run_concurrently
from tests.conftest import LRClient


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_creates_with_the_same_email_one_wins(credential):
    def create(i):
        response = LRClient(credential).post(
            A,
            {
                "Email": [
                    {"Type": "Primary", "Value": "Race@Example.com" if i else "race@example.com"}
                ],
                "Password": GOOD_PASSWORD,
            },
        )
        return response.status_code, response.json().get("ErrorCode")

    outcomes = run_concurrently(create, 2, pass_index=True)
    assert sorted(outcomes, key=str) == sorted([(200, None), (400, 936)], key=str)
    assert AccountEmail.objects.filter(tenant=credential.tenant).count() == 1
    assert Account.objects.filter(tenant=credential.tenant).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("field", "code"),
    [
        ({"Email": [{"Type": "Primary", "Value": "same@example.com"}]}, "account.email_taken"),
        ({"UserName": "Same"}, "account.username_taken"),
        ({"PhoneId": "+14155552671"}, "account.phone_taken"),
        ({"Uid": "same-uid", "UserName": None}, "account.uid_taken"),
    ],
)
def test_constraint_decides_when_both_pass_the_pre_check(tenant, monkeypatch, field, code):
    """With the friendly pre-check out of the way, both writers reach the INSERT; the unique
    index makes one wait and then fail, and the failure maps to the named error."""
    monkeypatch.setattr(lifecycle, "identifiers_check_free", lambda **kw: None)
    from portal.audit import Actor

    def create(i):
        data = {k: v for k, v in field.items() if v is not None}
        if "UserName" not in data and "Email" not in data and "PhoneId" not in data:
            data["UserName"] = f"u{i}"
        return services.account_create(
            profile_body.account_create_read(data), tenant=tenant, actor=Actor.system("t")
        ).uid

    outcomes = run_concurrently(create, 2, pass_index=True)
    assert len(outcomes) == 2 and outcomes.count(code) == 1, outcomes  # one UID, one refusal
    assert Account.objects.filter(tenant=tenant).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "second", "error", "code"),
    [
        (
            {"Email": [{"Type": "Primary", "Value": "x@example.com"}]},
            {"Email": [{"Type": "Primary", "Value": "X@example.com"}]},
            EmailTaken,
            "account.email_taken",
        ),
        ({"UserName": "Dup"}, {"UserName": "dUP"}, UsernameTaken, "account.username_taken"),
        (
            {"PhoneId": "+14155552671"},
            {"PhoneId": "+14155552671"},
            PhoneTaken,
            "account.phone_taken",
        ),
        (
            {"Uid": "u-1", "UserName": "a"},
            {"Uid": "u-1", "UserName": "b"},
            UidTaken,
            "account.uid_taken",
        ),
    ],
)
def test_integrity_errors_map_to_named_errors(tenant, monkeypatch, first, second, error, code):
    from portal.audit import Actor

    actor = Actor.system("t")
    services.account_create(profile_body.account_create_read(first), tenant=tenant, actor=actor)
    monkeypatch.setattr(lifecycle, "identifiers_check_free", lambda **kw: None)
    with pytest.raises(DomainError) as exc:
        services.account_create(
            profile_body.account_create_read(second), tenant=tenant, actor=actor
        )
    assert (type(exc.value), exc.value.code) == (error, code)
    assert Account.objects.filter(tenant=tenant).count() == 1
