"""Staff TOTP seeds are stored encrypted; codes are checked with drift and replay protection."""

import base64
import binascii
import importlib
import time

import pyotp
import pytest
from django.apps import apps
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import crypto
from portal.models import StaffTotpDevice
from tests.console.conftest import PASSWORD, totp_now

pytestmark = pytest.mark.django_db

MOVE_MIGRATION = "portal.migrations.0005_move_staff_totp_devices"


def _raw_key_column(device_pk: int) -> str:
    table = StaffTotpDevice._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key_encrypted FROM {table} WHERE id = %s", [device_pk])
        return cursor.fetchone()[0]


def _seed_forms(seed: bytes) -> list[str]:
    """Every spelling of a seed that would give it away: hex (either case) and base32."""
    hex_seed = binascii.hexlify(seed).decode()
    b32 = base64.b32encode(seed).decode()
    return [hex_seed, hex_seed.upper(), b32, b32.rstrip("="), b32.lower()]


def _code_at(device: StaffTotpDevice, moment: float) -> str:
    secret = base64.b32encode(device.bin_key).decode()
    return pyotp.TOTP(secret, digits=device.digits, interval=device.step).at(moment)


def _password_step(client, user):
    return client.post(reverse("console:login"), {"username": user.username, "password": PASSWORD})


def test_stored_seed_column_never_holds_the_seed(make_staff, tenant):
    user = make_staff("Agent", tenant)
    device = user.totp
    raw = _raw_key_column(device.pk)
    seed = device.bin_key
    assert len(seed) == 20
    for form in _seed_forms(seed):
        assert form not in raw
    # It is the seed, encrypted with FIELD_ENCRYPTION_KEY.
    assert binascii.unhexlify(crypto.decrypt(raw)) == seed


def test_enrolment_stores_the_new_seed_encrypted(make_staff, tenant):
    user = make_staff("Agent", tenant, enrolled=False)
    client = Client()
    _password_step(client, user)
    page = client.get(reverse("console:login_enrol"))
    device = StaffTotpDevice.objects.get(user=user)
    shown = base64.b32encode(device.bin_key).decode()
    assert " ".join(shown[i : i + 4] for i in range(0, len(shown), 4)).encode() in page.content
    raw = _raw_key_column(device.pk)
    for form in _seed_forms(device.bin_key):
        assert form not in raw
    response = client.post(reverse("console:login_enrol"), {"token": totp_now(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    for form in _seed_forms(device.bin_key):
        assert form not in _raw_key_column(device.pk)


def test_sign_in_works_with_a_code_computed_from_the_seed(make_staff, tenant):
    user = make_staff("Agent", tenant)
    secret = base64.b32encode(user.totp.bin_key).decode()
    client = Client()
    _password_step(client, user)
    response = client.post(reverse("console:login_verify"), {"token": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response["Location"] == reverse("console:dashboard")
    assert client.get(reverse("console:dashboard")).status_code == 200
    user.totp.refresh_from_db()
    assert user.totp.last_used_at is not None
    assert user.totp.last_t >= int(time.time()) // 30 - 1


def test_a_code_is_accepted_only_once(make_staff, tenant):
    user = make_staff("Agent", tenant)
    code = totp_now(user.totp)
    first = Client()
    _password_step(first, user)
    assert first.post(reverse("console:login_verify"), {"token": code})["Location"] == reverse(
        "console:dashboard"
    )
    second = Client()
    _password_step(second, user)
    response = second.post(reverse("console:login_verify"), {"token": code})
    assert response.status_code == 200
    assert b"not valid" in response.content
    assert SESSION_KEY not in second.session


def test_verify_token_refuses_replays_and_older_steps():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="drifter", password=PASSWORD)
    device = StaffTotpDevice.objects.create(user=user, name="console", confirmed=True)
    now = time.time()
    assert device.verify_token(_code_at(device, now))
    step_used = device.last_t
    assert not device.verify_token(_code_at(device, now))  # the same code again
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttle_reset()  # not refused merely for the back-off below
    assert not device.verify_token(_code_at(device, now - 30))  # an older step
    device.refresh_from_db()
    assert device.last_t == step_used
    assert device.throttling_failure_count == 1


def test_verify_token_tolerates_one_step_of_drift_and_remembers_it():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="ahead", password=PASSWORD)
    device = StaffTotpDevice.objects.create(user=user, name="console", confirmed=True)
    assert device.verify_token(_code_at(device, time.time() + 30))  # a phone one step ahead
    device.refresh_from_db()
    assert device.drift == 1
    assert not device.verify_token(_code_at(device, time.time() + 150))  # five steps: too far
    assert not device.verify_token("not-a-code")
    assert not device.verify_token("")


def test_verify_token_is_throttled_after_failures():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="guesser", password=PASSWORD)
    device = StaffTotpDevice.objects.create(user=user, name="console", confirmed=True)
    good = _code_at(device, time.time())
    assert not device.verify_token(f"{(int(good) + 1) % 1_000_000:06d}")
    # The failure backs off: even the right code is refused until the delay has passed.
    assert not device.verify_token(good)
    device.refresh_from_db()
    assert device.last_t == -1


def test_migration_moves_a_plaintext_device_into_encrypted_storage():
    from django.contrib.auth import get_user_model

    migration = importlib.import_module(MOVE_MIGRATION)
    user = get_user_model().objects.create_user(username="legacy", password=PASSWORD)
    hex_key = "3132333435363738393031323334353637383930"
    old = TOTPDevice.objects.create(
        user=user,
        name="legacy phone",
        confirmed=True,
        key=hex_key,
        drift=1,
        last_t=12345,
        throttling_failure_count=2,
    )
    migration.move_plaintext_staff_devices(apps, None)

    assert not TOTPDevice.objects.filter(pk=old.pk).exists()  # the plaintext row is gone
    moved = StaffTotpDevice.objects.get(user=user)
    assert (moved.name, moved.confirmed, moved.drift, moved.last_t) == (
        "legacy phone",
        True,
        1,
        12345,
    )
    assert moved.throttling_failure_count == 2
    assert moved.bin_key == binascii.unhexlify(hex_key)
    raw = _raw_key_column(moved.pk)
    for form in _seed_forms(binascii.unhexlify(hex_key)):
        assert form not in raw
    # The moved device still signs its owner in (codes computed from the old seed).
    moved.last_t = -1
    moved.throttling_failure_count = 0
    moved.save()
    assert moved.verify_token(pyotp.TOTP(base64.b32encode(binascii.unhexlify(hex_key))).now())


def test_migration_reverse_restores_a_usable_plaintext_device():
    from django.contrib.auth import get_user_model

    migration = importlib.import_module(MOVE_MIGRATION)
    user = get_user_model().objects.create_user(username="rollback", password=PASSWORD)
    device = StaffTotpDevice.objects.create(user=user, name="console", confirmed=True)
    seed = device.bin_key
    migration.restore_plaintext_staff_devices(apps, None)
    assert not StaffTotpDevice.objects.filter(user=user).exists()
    assert TOTPDevice.objects.get(user=user).bin_key == seed
