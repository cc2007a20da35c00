"""Second factors, their verifiers' throttles, login failure counters, sign-in locks and
one-time tokens.

Every secret is stored hashed (`portal.crypto.token_hash`) or, when it must be recovered
(a TOTP seed), encrypted (`portal.crypto.encrypt`).
"""

from django.db import models

from accounts.models import Account
from portal.fields import EncryptedTextField
from portal.models import Tenant


class TotpFactor(models.Model):
    """An authenticator app (RFC 6238) enrolled for an account; `confirmed` once a code verified."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="totp_factor")
    secret_encrypted = EncryptedTextField()
    confirmed = models.BooleanField(default=False)
    # The last accepted 30-second step: a step is never accepted twice.
    last_used_step = models.BigIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"totp:{self.account_id}"


class BackupCode(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="backup_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "code_hash"], name="backup_code_unique_per_account"
            ),
        ]

    def __str__(self) -> str:
        return f"backupcode:{self.pk}"


class OtpFactor(models.Model):
    """An email or SMS one-time-code second factor and where its codes go."""

    CHANNEL_EMAIL = "email"
    CHANNEL_SMS = "sms"
    CHANNELS = [(CHANNEL_EMAIL, "Email"), (CHANNEL_SMS, "SMS")]

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="otp_factors")
    channel = models.CharField(max_length=10, choices=CHANNELS)
    # Where codes of a sign-in go; only once `confirmed` by a code sent there.
    destination = models.CharField(max_length=254)
    confirmed = models.BooleanField(default=False)
    # A new destination of a confirmed factor, waiting for a code sent to it: until then
    # `destination` stays the factor.
    pending_destination = models.CharField(max_length=254, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "channel"], name="otp_factor_one_per_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"otpfactor:{self.pk}"


class OtpCode(models.Model):
    """A code sent through an OtpFactor's channel; single use, short-lived."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=OtpFactor.CHANNELS)
    # The address the code was sent to: it proves that address and no other.
    destination = models.CharField(max_length=254, blank=True, default="")
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "channel", "expires_at"])]

    def __str__(self) -> str:
        return f"otpcode:{self.pk}"


class SecurityAnswer(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="security_answers")
    question_id = models.CharField(max_length=100)
    answer_hash = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "question_id"], name="security_answer_one_per_question"
            ),
        ]

    def __str__(self) -> str:
        return f"securityanswer:{self.pk}"


class SecurityAnswerChange(models.Model):
    """New answers for an account that already has a second factor: they take effect only
    once the code sent to the account's primary email (or 2FA phone) confirms them."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="security_answer_change"
    )
    answers = models.JSONField(default=dict)  # question id -> answer hash
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"securityanswerchange:{self.pk}"


class VerifierThrottle(models.Model):
    """Consecutive failures of one verifier of one account; each failure doubles the wait."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    verifier = models.CharField(max_length=40)
    failure_count = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "verifier"], name="verifier_throttle_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"verifierthrottle:{self.pk}"


class LoginFailureCounter(models.Model):
    """Consecutive wrong passwords of an account, the input of the lockout policy."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="login_failures")
    failure_count = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"loginfailurecounter:{self.pk}"


class AccountLockout(models.Model):
    """The sign-in lock of an account, set by the lockout policy (too many wrong passwords)
    or by staff; no row means not locked. Past `locked_until` the lock no longer holds, and
    the next sign-in attempt removes the row (None: until unlocked)."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="login_lockout"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    locked_type = models.CharField(max_length=40)
    locked_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The console lists a tenant's locked accounts newest first.
        indexes = [models.Index(fields=["tenant", "-account"], name="lockout_tenant_newest")]

    def __str__(self) -> str:
        return f"accountlockout:{self.account_id}"


class SecondFactorToken(models.Model):
    """A one-time token: the pending second step of a sign-in, or a reauthentication proof."""

    PURPOSE_LOGIN = "login"
    PURPOSE_REAUTH = "reauth"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=20)
    method = models.CharField(max_length=40, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"secondfactortoken:{self.pk}"


class PasskeyCredential(models.Model):
    """A WebAuthn credential registered by an account."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="passkeys")
    credential_id = models.CharField(max_length=1400)  # base64url
    public_key = models.TextField()  # base64url COSE key
    sign_count = models.BigIntegerField(default=0)
    aaguid = models.CharField(max_length=64, blank=True)
    authenticator = models.CharField(max_length=200, blank=True)
    identifier = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "credential_id"], name="passkey_credential_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"passkeycredential:{self.pk}"


class PushDevice(models.Model):
    """A device registered to approve push sign-in challenges."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="push_devices")
    device_token_encrypted = EncryptedTextField()  # the notifier's address for the device
    device_secret_hash = models.CharField(
        max_length=64, blank=True
    )  # the device proves itself with it
    name = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"pushdevice:{self.pk}"


class DuoEnrollment(models.Model):
    """The Duo user an account is tied to once it completed a Duo prompt."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="duo_enrollment")
    duo_username = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"duoenrollment:{self.pk}"


class PasskeyChallenge(models.Model):
    """A WebAuthn challenge handed out once; usable by one ceremony before it expires."""

    PURPOSE_REGISTER = "register"
    PURPOSE_LOGIN = "login"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=20)
    challenge = models.CharField(max_length=128, unique=True)  # base64url
    identifier = models.CharField(max_length=254, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"passkeychallenge:{self.pk}"


class PushChallenge(models.Model):
    """A sign-in waiting for the account's device to approve or deny it."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(PushDevice, on_delete=models.CASCADE, related_name="challenges")
    login = models.ForeignKey(SecondFactorToken, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, default=PENDING)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # How the notification to the device went (security.services.push_challenge_deliver):
    # `queued`, `sent`, `retrying` (a temporary failure; tried again later), `failed` (a
    # permanent refusal or the last attempt) or `skipped` (answered or expired before it went).
    delivery_status = models.CharField(max_length=10, default="queued")
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    # Why the last attempt failed, in the project's words (never a secret or a response body).
    delivery_error = models.CharField(max_length=200, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"pushchallenge:{self.pk}"


class PushNotifierConfig(models.Model):
    """How a tenant's push challenges reach devices: Firebase Cloud Messaging with the
    tenant's service account, or the tenant's own relay through a signed webhook. No row:
    push approval is not offered."""

    KIND_FCM = "fcm"
    KIND_WEBHOOK = "webhook"
    KINDS = [(KIND_FCM, "Firebase Cloud Messaging"), (KIND_WEBHOOK, "Signed webhook")]

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="push_notifier")
    kind = models.CharField(max_length=10, choices=KINDS)
    # FCM: the service account's project and identity, shown to staff (not secret).
    fcm_project_id = models.CharField(max_length=200, blank=True, default="")
    fcm_client_email = models.CharField(max_length=254, blank=True, default="")
    # Webhook: the relay's HTTPS address.
    webhook_url = models.CharField(max_length=2000, blank=True, default="")
    # FCM: the whole service-account JSON; webhook: the `whsec_` signing secret.
    secret_encrypted = EncryptedTextField()
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"pushnotifier:{self.tenant_id}"


class DuoConfig(models.Model):
    """A tenant's Duo Universal Prompt application; when enabled every sign-in needs Duo."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="duo_config")
    client_id = models.CharField(max_length=20)
    client_secret_encrypted = EncryptedTextField()
    # api-XXXXXXXX.duosecurity.com or .duofederal.com (security.duo); TLS trusts Duo's pinned CAs only.
    api_host = models.CharField(max_length=255)
    enabled = models.BooleanField(default=True)
    modified = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"duo:{self.tenant_id}"


class DuoState(models.Model):
    """The `state` of one Duo prompt, tying Duo's redirect back to a pending sign-in
    (`login`) or to an account reauthenticating (`account`)."""

    PURPOSE_LOGIN = "login"
    PURPOSE_REAUTH = "reauth"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=10, default=PURPOSE_LOGIN)
    login = models.ForeignKey(
        SecondFactorToken, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    # Where Duo sends the browser back; the code exchange must name the same address.
    redirect_uri = models.CharField(max_length=2000, blank=True)
    state_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"duostate:{self.pk}"


class RecoveryCase(models.Model):
    """Support's guided recovery of an account whose holder lost access: the identity checks
    the tenant asks for, which passed, and the factor reset or email change they lead to
    (security.services.recovery). Its history is its `recovery_case.*` events.

    The code sent to the holder and the holder's cancel token are stored only as hashes."""

    OPEN = "open"  # checks under way
    SCHEDULED = "scheduled"  # checks passed; runs at `due_at` unless the holder cancels
    HELD = "held"  # handed to four-eyes approval (`approval_id`)
    DONE = "done"  # the reset or change ran
    CANCELLED = "cancelled"
    FAILED = "failed"  # refused when it ran (`outcome`)
    STATUSES = (OPEN, SCHEDULED, HELD, DONE, CANCELLED, FAILED)
    FACTOR_RESET = "factor.reset"
    EMAIL_CHANGE = "email.change"
    PURPOSES = ((FACTOR_RESET, "Reset a second factor"), (EMAIL_CHANGE, "Change the primary email"))

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="recovery_cases")
    purpose = models.CharField(max_length=20, choices=PURPOSES)
    factor = models.CharField(max_length=30, blank=True)
    new_email = models.CharField(max_length=254, blank=True)
    status = models.CharField(
        max_length=12, choices=[(s, s) for s in STATUSES], default=OPEN, db_index=True
    )
    # The checks the tenant asked for when the case opened, and those passed (check -> note).
    checks_required = models.JSONField(default=list)
    checks_passed = models.JSONField(default=dict)
    reason = models.CharField(max_length=500)
    ticket = models.CharField(max_length=200, blank=True)
    opened_by_type = models.CharField(max_length=20)
    opened_by_id = models.CharField(max_length=100, blank=True)
    opened_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The code last sent: its channel and address, its hash, expiry and wrong tries.
    code_channel = models.CharField(max_length=10, blank=True)
    code_destination = models.CharField(max_length=254, blank=True)
    code_hash = models.CharField(max_length=64, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    answer_attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    cancel_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    approval_id = models.IntegerField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=1000, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="recovery_due")]

    def __str__(self) -> str:
        return f"recoverycase:{self.pk}"
