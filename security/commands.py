"""The typed commands of the security services (portal/commands.py): what a front door
builds from its own input and hands to the service."""

from dataclasses import dataclass
from datetime import UTC, datetime

from portal.commands import Command, command, secret


@command("account.secure")
@dataclass(frozen=True)
class AccountSecure(Command):
    """Take a compromised account back (flows.securing.account_secure): every measure is
    on unless turned off. `devices_added_since` limits the passkey and push removals to the
    devices added since then; a time without an offset is UTC."""

    reason: str
    ticket: str = ""
    revoke_sessions: bool = True
    remove_passkeys: bool = True
    remove_push_devices: bool = True
    reset_second_factors: bool = True
    require_password_change: bool = True
    devices_added_since: datetime | None = None

    def __post_init__(self) -> None:
        since = self.devices_added_since
        if since is not None and since.tzinfo is None:
            object.__setattr__(self, "devices_added_since", since.replace(tzinfo=UTC))

    @classmethod
    def example(cls) -> "AccountSecure":
        return cls(
            reason="customer reports a takeover",
            ticket="SUP-42",
            remove_push_devices=False,
            devices_added_since=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        )


@command("mfa_factor.reset")
@dataclass(frozen=True)
class FactorReset(Command):
    """Remove one second factor of an account (security.services.mfa_factor_reset); `factor`
    is one of security.services.FACTORS."""

    factor: str
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "FactorReset":
        return cls(factor="totp", reason="lost phone", ticket="SUP-7")


@command("backup_codes.generate")
@dataclass(frozen=True)
class BackupCodesGenerate(Command):
    """Issue the ten backup codes of an account (security.services.backup_codes_generate);
    without `reset`, refused when it already has some."""

    reset: bool = False
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "BackupCodesGenerate":
        return cls(reset=True, reason="codes printed and lost", ticket="SUP-21")


@command("backup_codes.remove")
@dataclass(frozen=True)
class BackupCodesRemove(Command):
    """Withdraw every backup code of an account, issuing none in their place
    (security.services.backup_codes_remove)."""

    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "BackupCodesRemove":
        return cls(reason="codes may be known to someone else", ticket="SUP-22")


@command("passkey.remove")
@dataclass(frozen=True)
class PasskeyRemove(Command):
    """Remove one passkey of an account by its credential id
    (security.services.passkey_delete)."""

    passkey_id: str
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "PasskeyRemove":
        return cls(passkey_id="q1w2e3r4t5y6", reason="lost security key")


@command("push_device.register")
@dataclass(frozen=True)
class PushDeviceRegister(Command):
    """Register a device that approves the account's sign-ins
    (security.services.push_device_register): `device_address` is where the tenant's
    notifier reaches it (an FCM registration token or a relay address)."""

    device_address: str = secret(default="")
    name: str = ""

    @classmethod
    def example(cls) -> "PushDeviceRegister":
        return cls(device_address="https://push.example.com/d1", name="Ann's phone")


@command("push_device.remove")
@dataclass(frozen=True)
class PushDeviceRemove(Command):
    """Remove one push-approval device of an account
    (security.services.push_device_delete)."""

    device_id: int
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "PushDeviceRemove":
        return cls(device_id=17, reason="phone replaced", ticket="SUP-23")


@command("push_notifier.configure")
@dataclass(frozen=True)
class PushNotifierSet(Command):
    """Choose how the tenant's push challenges reach devices
    (security.services.push_notifier_set): `kind` "none" (push approval off), "fcm" (with
    the service account's JSON key file; None keeps the stored one) or "webhook" (the
    relay's HTTPS address; a new signing secret is made when there is none for it yet or
    `new_secret` asks for one)."""

    kind: str
    service_account_json: str | None = secret(default=None)
    webhook_url: str = ""
    new_secret: bool = False
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "PushNotifierSet":
        return cls(
            kind="webhook",
            webhook_url="https://push-relay.example.com/hooks/portal",
            new_secret=True,
            reason="our own push relay",
            ticket="OPS-12",
        )


@command("duo.configure")
@dataclass(frozen=True)
class DuoConfigSet(Command):
    """Configure the tenant's Duo application (security.services.duo_config_set); a
    `client_secret` of None keeps the stored one."""

    client_id: str
    api_host: str
    client_secret: str | None = secret(default=None)
    enabled: bool = True
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "DuoConfigSet":
        return cls(
            client_id="DIXXXXXXXXXXXXXXXXXX",
            api_host="api-12345678.duosecurity.com",
            client_secret="duo-client-secret-0123456789abcdef0123",
            reason="Duo rollout",
        )


@command("duo.remove")
@dataclass(frozen=True)
class DuoConfigDelete(Command):
    """Remove the tenant's Duo application (security.services.duo_config_delete)."""

    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "DuoConfigDelete":
        return cls(reason="moving to passkeys", ticket="OPS-8")


@command("account.lock")
@dataclass(frozen=True)
class AccountLock(Command):
    """Lock an account's sign-in (security.services.account_lock), by hand or by the lockout
    policy, until `until` (None: until unlocked); a time without an offset is UTC."""

    locked_type: str = "ManualLock"
    until: datetime | None = None
    reason: str = ""
    ticket: str = ""

    def __post_init__(self) -> None:
        if self.until is not None and self.until.tzinfo is None:
            object.__setattr__(self, "until", self.until.replace(tzinfo=UTC))

    @classmethod
    def example(cls) -> "AccountLock":
        return cls(
            locked_type="FailedLoginAttemptsExceeded",
            until=datetime(2026, 5, 1, 12, 15, tzinfo=UTC),
            reason="5 consecutive failed sign-ins",
        )


@command("account.unlock")
@dataclass(frozen=True)
class AccountUnlock(Command):
    """Let a locked account sign in again now (security.services.account_unlock)."""

    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "AccountUnlock":
        return cls(reason="customer verified by phone", ticket="SUP-8")


@command("account.lock_set")
@dataclass(frozen=True)
class AccountLockSet(Command):
    """The profile's `IsLoginLocked` written with an account change
    (security.services.account_lock_set): lock by hand, or unlock."""

    locked: bool
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "AccountLockSet":
        return cls(locked=True, reason="suspicious sign-ins", ticket="SUP-9")


@command("otp_factor.set")
@dataclass(frozen=True)
class OtpFactorSet(Command):
    """Point the account's email or SMS code factor at a destination
    (security.services.otp_factor_set); `channel` is "email" or "sms". A confirmed factor
    holds the new destination as pending until a code sent to it confirms it."""

    channel: str
    destination: str
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "OtpFactorSet":
        return cls(channel="sms", destination="+14155550100", reason="new phone", ticket="SUP-24")


@command("security_answers.set")
@dataclass(frozen=True)
class SecurityAnswersSet(Command):
    """Set the answers to the given questions at once, question id -> answer
    (security.services.security_answers_set): a back end vouches for them."""

    answers: dict[str, str] = secret()
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "SecurityAnswersSet":
        return cls(
            answers={"q1": "Lyon", "q2": "Rex"}, reason="set at registration", ticket="SUP-25"
        )


@command("security_answers.request")
@dataclass(frozen=True)
class SecurityAnswersRequest(Command):
    """The account's own change of its answers (security.services.security_answers_request):
    held for a code while the account has a second factor; the templates name the message
    that carries the code."""

    answers: dict[str, str] = secret()
    email_template: str = ""
    sms_template: str = ""
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "SecurityAnswersRequest":
        return cls(
            answers={"q1": "Paris"},
            email_template="answers-confirm",
            sms_template="answers-sms",
            reason="asked by the owner",
            ticket="SUP-26",
        )


@command("totp.enroll")
@dataclass(frozen=True)
class TotpEnroll(Command):
    """Start (or restart) an authenticator enrollment (security.services.totp_enroll)."""

    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "TotpEnroll":
        return cls(reason="new authenticator app", ticket="SUP-27")


# Guided recovery (security.services.recovery) ---------------------------------------------


@command("recovery_case.open")
@dataclass(frozen=True)
class RecoveryCaseOpen(Command):
    """Start a guided recovery of an account whose holder lost access: the checks the
    tenant asks for come first, then `purpose` ("factor.reset" of `factor`, or
    "email.change" to `new_email`) runs (security.services.recovery_case_open)."""

    purpose: str
    factor: str = ""
    new_email: str = ""
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RecoveryCaseOpen":
        return cls(purpose="factor.reset", factor="totp", reason="lost phone", ticket="SUP-9")


@command("recovery_case.code_send")
@dataclass(frozen=True)
class RecoveryCodeSend(Command):
    """Send a one-time code to one of the account's still-verified addresses ("email" or
    "sms") for the holder to read back (security.services.recovery_code_send)."""

    case_id: int
    channel: str

    @classmethod
    def example(cls) -> "RecoveryCodeSend":
        return cls(case_id=3, channel="email")


@command("recovery_case.attest")
@dataclass(frozen=True)
class RecoveryAttest(Command):
    """The agent's word for a check no machine can make (security.services.recovery_attest):
    "document" (with the document check's reference) or "callback" (with the phone number
    called back)."""

    case_id: int
    check: str
    reference: str = ""
    phone: str = ""
    confirmed: bool = False

    @classmethod
    def example(cls) -> "RecoveryAttest":
        return cls(case_id=3, check="document", reference="DOC-881", confirmed=True)


@command("recovery_case.proceed")
@dataclass(frozen=True)
class RecoveryProceed(Command):
    """Every check passed: run the reset or change (through the approval gate), or schedule
    it after the tenant's cooling-off period (security.services.recovery_case_proceed)."""

    case_id: int

    @classmethod
    def example(cls) -> "RecoveryProceed":
        return cls(case_id=3)


@command("recovery_case.run")
@dataclass(frozen=True)
class RecoveryRun(Command):
    """Run a scheduled case whose cooling-off ended (security.services.recovery_case_run)."""

    case_id: int

    @classmethod
    def example(cls) -> "RecoveryRun":
        return cls(case_id=3)


@command("recovery_case.close")
@dataclass(frozen=True)
class RecoveryCaseClose(Command):
    """Staff end an open or scheduled case without running it
    (security.services.recovery_case_close)."""

    case_id: int
    reason: str = ""

    @classmethod
    def example(cls) -> "RecoveryCaseClose":
        return cls(case_id=3, reason="holder found their phone")
