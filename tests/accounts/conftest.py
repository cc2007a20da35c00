import pytest

from accounts import services
from accounts.api import profile_body
from accounts.models import Account, AccountEmail
from portal.audit import Actor
from portal.models import AuditEvent

A = "/identity/v2/manage/account"
GOOD_PASSWORD = "correct-horse-battery-42"


def assert_error(response, code: int, status: int | None = None) -> dict:
    """The response is a LoginRadius error body with this code."""
    body = response.json()
    assert {
        "Description",
        "ErrorCode",
        "Message",
        "IsProviderError",
        "ProviderErrorResponse",
    } <= set(body), body
    assert body["ErrorCode"] == code, body
    if status is not None:
        assert response.status_code == status, (response.status_code, body)
    return body


def state(tenant) -> tuple:
    """Everything an account write can touch, to assert that a refused call changed nothing."""
    accounts = list(
        Account.objects.filter(tenant=tenant)
        .order_by("id")
        .values_list(
            "uid",
            "username",
            "phone_id",
            "first_name",
            "last_name",
            "profile",
            "custom_fields",
            "password",
            "is_active",
            "login_lockout__locked_type",
            "email_verified",
            "phone_id_verified",
        )
    )
    emails = list(
        AccountEmail.objects.filter(tenant=tenant)
        .order_by("id")
        .values_list("value", "type", "verified")
    )
    return accounts, emails, AuditEvent.objects.filter(tenant=tenant).count()


@pytest.fixture
def actor():
    return Actor.system("test")


@pytest.fixture
def make_account(tenant, actor):
    def make(email="ann@example.com", **extra):
        data = {"Email": [{"Type": "Primary", "Value": email}], "Password": GOOD_PASSWORD, **extra}
        if email is None:
            data.pop("Email")
        return services.account_create(
            profile_body.account_create_read(data), tenant=tenant, actor=actor
        )

    return make
