"""The production password hasher: Argon2id with the deployment's parameters, and stored
hashes made with other parameters or hashers upgraded at the next successful sign-in."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    check_password,
    get_hasher,
    identify_hasher,
    make_password,
)
from rest_framework.test import APIClient

from accounts.models import Account
from portal.models import AuditEvent
from tests.factories import AccountFactory

pytestmark = pytest.mark.real_hasher

LOGIN = "/identity/v2/auth/login"
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
OWASP = {"memory_cost": 19456, "time_cost": 2, "parallelism": 1}


def argon2_parameters(encoded: str) -> dict:
    decoded = identify_hasher(encoded).decode(encoded)
    return {name: decoded[name] for name in ("memory_cost", "time_cost", "parallelism")}


def hasher_in_fresh_process(**environment: str) -> subprocess.CompletedProcess:
    """Start the project's settings in a new process under `environment` and print the
    parameters of a hash the default hasher makes."""
    script = (
        "import django\n"
        "django.setup()\n"
        "from django.contrib.auth.hashers import get_hasher, make_password\n"
        "encoded = make_password('pw')\n"
        "decoded = get_hasher().decode(encoded)\n"
        "print(type(get_hasher()).__name__, decoded['memory_cost'], decoded['time_cost'],"
        " decoded['parallelism'])\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PASSWORD_ARGON2_")},
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_parameters_come_from_the_environment():
    done = hasher_in_fresh_process(
        PASSWORD_ARGON2_MEMORY_KIB="12288",
        PASSWORD_ARGON2_TIME_COST="3",
        PASSWORD_ARGON2_PARALLELISM="2",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ConfiguredArgon2PasswordHasher", "12288", "3", "2"]


def test_without_the_variables_the_parameters_are_owasps():
    done = hasher_in_fresh_process()
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ConfiguredArgon2PasswordHasher", "19456", "2", "1"]


@pytest.mark.parametrize(
    "environment",
    [
        {"PASSWORD_ARGON2_MEMORY_KIB": "8", "PASSWORD_ARGON2_PARALLELISM": "2"},
        {"PASSWORD_ARGON2_TIME_COST": "0"},
        {"PASSWORD_ARGON2_PARALLELISM": "0"},
    ],
)
def test_parameters_argon2_cannot_use_stop_the_start(environment):
    done = hasher_in_fresh_process(**environment)
    assert done.returncode != 0
    assert "ImproperlyConfigured: PASSWORD_ARGON2_TIME_COST and" in done.stderr


def test_the_default_hasher_hashes_with_the_configured_parameters():
    hasher = get_hasher()
    assert type(hasher).__name__ == "ConfiguredArgon2PasswordHasher"
    encoded = make_password(PASSWORD)
    assert encoded.startswith("argon2$argon2id$")
    assert argon2_parameters(encoded) == OWASP
    assert check_password(PASSWORD, encoded)


@pytest.fixture
def api(tenant):
    return APIClient()


def sign_in(api, tenant, password):
    return api.post(
        f"{LOGIN}?apikey={tenant.api_key}",
        {"email": "member@example.com", "password": password},
        format="json",
    )


def member_with(tenant, encoded: str) -> Account:
    account = AccountFactory(tenant=tenant, email="member@example.com")
    Account.objects.filter(pk=account.pk).update(password=encoded)
    return account


@pytest.mark.parametrize(
    "old_hasher",
    [Argon2PasswordHasher(), "pbkdf2_sha256"],
    ids=["django-default-argon2", "pbkdf2"],
)
def test_an_old_hash_is_replaced_at_the_next_sign_in(api, tenant, old_hasher):
    old = make_password(PASSWORD, hasher=old_hasher)
    assert not old.startswith("argon2$") or get_hasher().must_update(old)
    account = member_with(tenant, old)
    last_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    response = sign_in(api, tenant, PASSWORD)

    assert response.status_code == 200, response.json()
    assert response.json()["access_token"]
    stored = Account.objects.get(pk=account.pk).password
    assert stored != old and stored.startswith("argon2$argon2id$")
    assert argon2_parameters(stored) == OWASP
    assert check_password(PASSWORD, stored)
    # The re-hash is no domain change: the sign-in's own events are all it records.
    actions = set(AuditEvent.objects.filter(id__gt=last_event).values_list("action", flat=True))
    assert not any("password" in action for action in actions)
    assert sign_in(api, tenant, PASSWORD).status_code == 200


def test_a_wrong_password_upgrades_nothing(api, tenant):
    old = make_password(PASSWORD, hasher=Argon2PasswordHasher())
    account = member_with(tenant, old)

    response = sign_in(api, tenant, "not the password")

    assert response.status_code == 401 and response.json()["ErrorCode"] == 966
    assert Account.objects.get(pk=account.pk).password == old


def test_a_current_hash_is_left_as_it_is(api, tenant):
    current = make_password(PASSWORD)
    account = member_with(tenant, current)

    assert sign_in(api, tenant, PASSWORD).status_code == 200
    assert Account.objects.get(pk=account.pk).password == current
