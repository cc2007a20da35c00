import base64

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from guardian.shortcuts import assign_perm

from portal import staff
from portal.models import StaffTotpDevice

PASSWORD = "correct horse battery"


def totp_now(device: StaffTotpDevice) -> str:
    """The code an authenticator app would show for this device right now."""
    return pyotp.TOTP(base64.b32encode(device.bin_key).decode()).now()


@pytest.fixture
def make_staff(db):
    """make_staff("Agent", tenant, perms=[...]): a staff user with a confirmed TOTP device,
    in that role's group, holding `perms` (default: every permission) on `tenant`."""
    counter = {"n": 0}

    def make(role: str | None = "Agent", tenant=None, perms=None, *, username=None, enrolled=True):
        counter["n"] += 1
        user = get_user_model().objects.create_user(
            username=username or f"{(role or 'norole').lower()}{counter['n']}", password=PASSWORD
        )
        if role:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        if tenant is not None:
            for perm in perms if perms is not None else list(staff.TENANT_PERMISSIONS):
                assign_perm(f"portal.{perm}", user, tenant)
        if enrolled:
            user.totp = StaffTotpDevice.objects.create(user=user, name="console", confirmed=True)
        return user

    return make


@pytest.fixture
def console_client(db):
    """console_client(user): a client signed in with both factors."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        device = StaffTotpDevice.objects.filter(user=user, confirmed=True).first()
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return make
