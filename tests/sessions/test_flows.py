"""The flows above the sections: a sign-in counts the sign-in and opens the session; using
a multipurpose token spends it together with the action it authorizes. Each records the
events of its steps, in order, and nothing when a step refuses."""

import pytest
from django.contrib.auth.hashers import check_password, make_password

from accounts.errors import PasswordInvalid
from flows import signin, token_consumption
from portal.audit import Actor
from portal.crypto import encrypt
from portal.models import AuditEvent
from security.errors import PasswordWrong
from security.models import AccountLockout, TotpFactor
from tests.factories import AccountFactory
from tokens.commands import TokenIssue
from tokens.errors import MultipurposeTokenUsed
from tokens.models import AccessToken, MultipurposeToken
from tokens.services.multipurpose import token_issue

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def person(tenant):
    account = AccountFactory(tenant=tenant, email="person@example.com")
    account.password = make_password(PASSWORD)
    account.phone_id = "+14155550123"
    account.save(update_fields=["password", "phone_id"])
    return account


def since(mark: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(id__gt=mark).order_by("id").values_list("action", flat=True)
    )


def mark() -> int:
    last = AuditEvent.objects.order_by("-id").first()
    return last.pk if last else 0


def issued(person, *, kind, purpose, destination) -> str:
    return token_issue(
        TokenIssue(kind=kind, purpose=purpose, destination=destination),
        tenant=person.tenant,
        account=person,
        actor=Actor.system("tests"),
    ).value


def test_password_sign_in_counts_the_sign_in_and_opens_the_session(tenant, person):
    start = mark()
    outcome = signin.password_signin(
        tenant=tenant, account=person, password=PASSWORD, reason="password sign-in"
    )
    assert outcome.challenge is None and outcome.session is not None
    assert AccessToken.objects.filter(account=person, revoked_at__isnull=True).count() == 1
    assert since(start) == ["account.login_recorded", "signin.succeeded", "session.issued"]
    person.refresh_from_db()
    assert person.no_of_logins == 1


def test_a_second_factor_holds_the_session_back(tenant, person):
    TotpFactor.objects.create(
        tenant=tenant, account=person, secret_encrypted=encrypt("JBSWY3DPEHPK3PXP"), confirmed=True
    )
    start = mark()
    outcome = signin.password_signin(
        tenant=tenant, account=person, password=PASSWORD, reason="password sign-in"
    )
    assert outcome.session is None and outcome.challenge is not None
    assert not AccessToken.objects.filter(account=person).exists()
    assert since(start) == []


def test_a_refused_sign_in_opens_nothing_and_locks_at_the_threshold(tenant, person):
    tenant.settings = {"lockout_threshold": 1}
    tenant.save()
    start = mark()
    with pytest.raises(PasswordWrong):
        signin.password_signin(tenant=tenant, account=person, password="nope", reason="x")
    assert not AccessToken.objects.filter(account=person).exists()
    # The refusal is recorded too, in its own transaction (the event feed's sign-in history).
    assert since(start) == ["account.locked", "signin.failed"]
    assert AccountLockout.objects.filter(account=person).exists()


def test_password_reset_by_token_spends_the_token_with_the_change(tenant, person):
    value = issued(
        person,
        kind=MultipurposeToken.KIND_EMAIL,
        purpose="forgotpassword",
        destination="person@example.com",
    )
    start = mark()
    token_consumption.password_reset_by_token(
        tenant=tenant, value=value, password="Another-long-pass-77"
    )
    person.refresh_from_db()
    assert check_password("Another-long-pass-77", person.password)
    steps = since(start)
    assert steps[0] == "account_password.set" and steps[-1] == "multipurpose_token.consumed"
    with pytest.raises(MultipurposeTokenUsed):
        token_consumption.password_reset_by_token(
            tenant=tenant, value=value, password="Yet-another-pass-88"
        )


def test_a_refused_step_leaves_the_token_unspent(tenant, person):
    value = issued(
        person,
        kind=MultipurposeToken.KIND_EMAIL,
        purpose="forgotpassword",
        destination="person@example.com",
    )
    start = mark()
    with pytest.raises(PasswordInvalid):
        token_consumption.password_reset_by_token(tenant=tenant, value=value, password="short")
    assert since(start) == []
    assert MultipurposeToken.objects.get(account=person, purpose="forgotpassword").used_at is None
    token_consumption.password_reset_by_token(
        tenant=tenant, value=value, password="Another-long-pass-77"
    )


def test_phone_verification_verifies_and_signs_in(tenant, person):
    otp = issued(
        person,
        kind=MultipurposeToken.KIND_SMS,
        purpose="phoneidverification",
        destination="+14155550123",
    )
    start = mark()
    account, session = token_consumption.phone_verify_by_otp(
        tenant=tenant, phone="+14155550123", otp=otp
    )
    assert account.phone_id_verified and session.access_token
    steps = since(start)
    assert steps.index("multipurpose_token.consumed") < steps.index("session.issued")
