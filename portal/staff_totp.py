"""Staff authenticator apps (RFC 6238) for the console and admin sign-in.

A django-otp device like the stock TOTPDevice, except that the seed is stored encrypted
with FIELD_ENCRYPTION_KEY (`portal.crypto`), the way account TOTP seeds are: a copy of
the table alone lets nobody compute a staff member's codes.
"""

import base64
import binascii
import secrets
import time

import pyotp
from django.conf import settings
from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from portal import crypto
from portal.fields import EncryptedTextField

SEED_BYTES = 20


def new_encrypted_seed() -> str:
    """A fresh random seed (hex), encrypted: the default of every new device."""
    return crypto.encrypt(secrets.token_hex(SEED_BYTES))


class StaffTotpDevice(TimestampMixin, ThrottlingMixin, Device):
    """A staff member's authenticator app; `confirmed` once its first code verified.

    The fields besides the seed mean what they mean on django-otp's TOTPDevice: `last_t`
    is the last accepted time step (a step is never accepted twice), `drift` the steps the
    app is known to run ahead or behind, `tolerance` the steps either side accepted.
    """

    key_encrypted = EncryptedTextField(default=new_encrypted_seed, editable=False)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = "staff TOTP device"

    @property
    def bin_key(self) -> bytes:
        """The seed, decrypted."""
        return binascii.unhexlify(crypto.decrypt(self.key_encrypted))

    def set_seed(self, seed: bytes) -> None:
        self.key_encrypted = crypto.encrypt(binascii.hexlify(seed).decode())

    @property
    def secret_b32(self) -> str:
        """The seed as an authenticator app takes it typed in by hand."""
        return base64.b32encode(self.bin_key).decode()

    @property
    def config_url(self) -> str:
        """The otpauth:// URI an authenticator app scans (shown once, as a QR code)."""
        issuer = str(getattr(settings, "OTP_TOTP_ISSUER", "") or "").replace(":", "") or None
        return pyotp.TOTP(self.secret_b32, digits=self.digits, interval=self.step).provisioning_uri(
            name=self.user.get_username(), issuer_name=issuer
        )

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        """Accept a code of the current step (or within `tolerance` steps) once.

        A code of a step at or before the last accepted one is refused, so a code seen by
        someone else cannot be replayed. Callers lock the row (select_for_update) so two
        requests cannot both spend the same code. Failures back off (ThrottlingMixin).
        """
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        token = str(token or "").strip()
        verified = False
        totp = None
        if token.isdigit() and len(token) == self.digits:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(int(token), self.tolerance, self.last_t + 1)
        if verified:
            self.last_t = totp.t()
            if getattr(settings, "OTP_TOTP_SYNC", True):
                self.drift = totp.drift
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        else:
            self.throttle_increment(commit=True)
        return verified
