"""Duplicates are settled by database constraints, also when two writers race."""

import pytest

from accounts import services
from accounts.models import Account, AccountEmail
from accounts.services import lifecycle
from portal.lrapi.errors import LRError
from tests.accounts.conftest import GOOD_PASSWORD, A
from tests.concurrency import run_concurrently
from tests.conftest import LRClient


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_creates_with_the_same_email_one_wins(credential):
    def create(i):
        response = LRClient(credential).post(
            A, {"Email": [{"Type": "Primary", "Value": "Race@Example.com" if i else "race@example.com"}], "Password": GOOD_PASSWORD}
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
        ({"Email": [{"Type": "Primary", "Value": "same@example.com"}]}, 936),
        ({"UserName": "Same"}, 1017),
        ({"PhoneId": "+14155552671"}, 1058),
        ({"Uid": "same-uid", "UserName": None}, 1044),
    ],
)
def test_constraint_decides_when_both_pass_the_pre_check(tenant, monkeypatch, field, code):
    """With the friendly pre-check out of the way, both writers reach the INSERT; the unique
    index makes one wait and then fail, and the failure maps to the LoginRadius code."""
    monkeypatch.setattr(lifecycle, "identifiers_check_free", lambda **kw: None)
    from portal.audit import Actor

    def create(i):
        data = {k: v for k, v in field.items() if v is not None}
        if "UserName" not in data and "Email" not in data and "PhoneId" not in data:
            data["UserName"] = f"u{i}"
        return services.account_create(tenant=tenant, actor=Actor.system("t"), data=data).uid

    outcomes = run_concurrently(create, 2, pass_index=True)
    assert code in outcomes and len([o for o in outcomes if isinstance(o, str)]) == 1, outcomes
    assert Account.objects.filter(tenant=tenant).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "second", "code"),
    [
        ({"Email": [{"Type": "Primary", "Value": "x@example.com"}]}, {"Email": [{"Type": "Primary", "Value": "X@example.com"}]}, 936),
        ({"UserName": "Dup"}, {"UserName": "dUP"}, 1017),
        ({"PhoneId": "+14155552671"}, {"PhoneId": "+14155552671"}, 1058),
        ({"Uid": "u-1", "UserName": "a"}, {"Uid": "u-1", "UserName": "b"}, 1044),
    ],
)
def test_integrity_errors_map_to_loginradius_codes(tenant, monkeypatch, first, second, code):
    from portal.audit import Actor

    actor = Actor.system("t")
    services.account_create(tenant=tenant, actor=actor, data=first)
    monkeypatch.setattr(lifecycle, "identifiers_check_free", lambda **kw: None)
    with pytest.raises(LRError) as exc:
        services.account_create(tenant=tenant, actor=actor, data=second)
    assert exc.value.error_code == code
    assert Account.objects.filter(tenant=tenant).count() == 1
