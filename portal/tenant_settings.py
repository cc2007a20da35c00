"""Every tenant setting, once: its name, type, bounds, default, label, help text and group.

The rules of a settings change live here and nowhere else: `portal.services.
tenant_update_settings` judges a `TenantSettingsChange` with `problems_of`, and the front
doors (the console's settings form, `PATCH /api/v1/tenant`) only read the types to build
their fields and hand the values to the service. `portal.models.TENANT_SETTING_DEFAULTS`
is made from this registry. Sections read a value with `Tenant.setting(name)`.

Part of the core: it imports no app (the password character classes are spelled here and a
test checks them against accounts.password_policy).
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from portal.errors import DomainError, FieldError, register
from portal.errors import Kind as ErrorKind

INT_CEILING = 2**31 - 1


class Kind(StrEnum):
    NUMBER = "number"  # a whole number within [low, high]
    FLAG = "flag"  # true or false
    CHOICE = "choice"  # one of `choices`
    CHOICES = "choices"  # a list of some of `choices`, stored in their order
    TEXT = "text"  # one line of at most `high` characters


class Group(StrEnum):
    SESSIONS = "Sessions and tokens"
    LOCKOUT = "Lockout"
    MESSAGES = "OTP and messages"
    RATE_LIMITS = "Rate limits"
    SIGNING = "Signing and API requests"
    PASSWORD = "Password policy"
    RETENTION = "Retention"
    APPROVALS = "Approvals"
    NOTICES = "Notices to account holders"
    STAFF_ACCESS = "Time-boxed staff access"
    RECOVERY = "Guided recovery"
    MASKING = "Masked personal data"


GROUP_ORDER = tuple(Group)


@dataclass(frozen=True)
class Setting:
    name: str
    kind: Kind
    default: Any
    label: str
    help: str
    group: Group
    low: int = 0
    high: int = INT_CEILING
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)

    def rule(self) -> str:
        """What a valid value is, said for a person."""
        if self.kind is Kind.NUMBER:
            return f"A whole number from {self.low} to {self.high}."
        if self.kind is Kind.FLAG:
            return "true or false."
        if self.kind is Kind.TEXT:
            return f"Text of at most {self.high} characters, on one line."
        values = ", ".join(value for value, _ in self.choices)
        return f"One of {values}." if self.kind is Kind.CHOICE else f"A list of {values}."

    def checked(self, value: Any) -> tuple[Any, str | None]:
        """(the value to store, None), or (None, why it is refused). None is the default."""
        if value is None:
            return self.default, None
        allowed = [choice for choice, _ in self.choices]
        if self.kind is Kind.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int):
                return None, self.rule()
            return (value, None) if self.low <= value <= self.high else (None, self.rule())
        if self.kind is Kind.FLAG:
            return (value, None) if isinstance(value, bool) else (None, self.rule())
        if self.kind is Kind.CHOICE:
            return (value, None) if value in allowed else (None, self.rule())
        if self.kind is Kind.TEXT:
            if not isinstance(value, str) or len(value) > self.high or "\n" in value:
                return None, self.rule()
            return value.strip(), None
        if not isinstance(value, list | tuple) or any(
            not isinstance(item, str) or item not in allowed for item in value
        ):
            return None, self.rule()
        return [choice for choice in allowed if choice in value], None  # one order

    @property
    def shown_default(self) -> str:
        if self.kind is Kind.CHOICES:
            return ", ".join(self.default) or "none"
        if self.kind is Kind.FLAG:
            return "on" if self.default else "off"
        if self.kind is Kind.TEXT:
            return self.default or "none"
        return str(self.default)


PASSWORD_LENGTH_FLOOR = 1
PASSWORD_LENGTH_CEILING = 256
CHARACTER_CLASSES = ("lowercase", "uppercase", "digit", "special")
REQUEST_SIGNING_MODES = ("preferred", "strict")

S, L, M, R, G, P, T, A, N, X = (
    Group.SESSIONS,
    Group.LOCKOUT,
    Group.MESSAGES,
    Group.RATE_LIMITS,
    Group.SIGNING,
    Group.PASSWORD,
    Group.RETENTION,
    Group.APPROVALS,
    Group.NOTICES,
    Group.STAFF_ACCESS,
)
DAY_MINUTES = 24 * 60
# Staff roles a tenant may show personal data masked to (value, label): portal.console.display.
MASKABLE_ROLES: tuple[tuple[str, str], ...] = (
    ("viewer", "Viewer"),
    ("agent", "Agent"),
    ("lead", "Lead"),
    ("admin", "Admin"),
)
# What may need a second person (value, label); approvals.policy.GATES runs them.
APPROVAL_GATES: tuple[tuple[str, str], ...] = (
    ("account.delete", "Delete an account"),
    ("factor.reset", "Reset a second factor"),
    ("contact.change", "Change the primary email or phone"),
    ("role.privileged", "Grant a role marked privileged"),
    ("job.bulk", "Start a bulk job over many accounts"),
    ("account.impersonate", "Issue an impersonation token"),
    ("account.block", "Block or unblock an account"),
    ("account.unlock", "Unlock an account"),
    ("sessions.revoke", "Revoke all sessions"),
    ("password.set", "Set a password"),
)
DEFAULT_APPROVAL_GATES: tuple[str, ...] = tuple(value for value, _ in APPROVAL_GATES[:6])
# What the holder is told of (value, label); accounts.notices.NOTICES sends them.
NOTICE_KINDS: tuple[tuple[str, str], ...] = (
    ("factor.added", "A sign-in method was added"),
    ("factor.reset", "Support reset a sign-in method"),
    ("contact.changed", "Support changed an email address or phone number"),
    ("password.set", "Support set a new password"),
    ("account.blocked", "Support blocked the account"),
    ("account.unblocked", "Support unblocked the account"),
    ("account.unlocked", "Support unlocked the account"),
    ("impersonation", "Support signed in as the holder"),
    ("account.deleted", "Support deleted the account"),
    ("recovery.scheduled", "Support scheduled a change after recovery checks (always sent)"),
)
# The identity checks of a guided recovery (value, label); security.services.recovery runs them.
RECOVERY_CHECKS: tuple[tuple[str, str], ...] = (
    ("code", "A code sent to a still-verified email or phone"),
    ("answers", "Security answers"),
    ("document", "A document check (the agent attests, with its reference)"),
    ("callback", "A callback (the agent attests, with the number called)"),
)


def _number(name, default, label, text, group, low=0, high=INT_CEILING) -> Setting:
    return Setting(name, Kind.NUMBER, default, label, text, group, low=low, high=high)


def _flag(name, default, label, text, group) -> Setting:
    return Setting(name, Kind.FLAG, default, label, text, group)


SETTINGS: tuple[Setting, ...] = (
    # Sessions and tokens
    _number("access_token_lifetime_minutes", 60, "Access token lifetime (minutes)",
            "Minutes an access token lives.", S, 1, 366 * DAY_MINUTES),
    _number("refresh_token_lifetime_days", 60, "Refresh token lifetime (days)",
            "Days a refresh token lives.", S, 1, 3650),
    _number("refresh_token_family_max_days", 365, "Refresh token family limit (days)",
            "Days before a chain of refreshed tokens must sign in again.", S, 1, 3650),
    _number("refresh_reuse_grace_seconds", 5, "Refresh reuse grace (seconds)",
            "Seconds a just-rotated refresh token is still accepted.", S, 0, 3600),
    _number("reauth_token_lifetime_seconds", 300, "Reauthentication lifetime (seconds)",
            "Seconds a reauthentication stays valid.", S, 1, 86400),
    _number("elevation_minutes", 5, "Elevation after reauthentication (minutes)",
            "Minutes an access token may make security changes after a reauthentication "
            "made with it.", S, 0, DAY_MINUTES),
    # Lockout
    _number("lockout_threshold", 5, "Failed sign-ins before lockout",
            "Failed sign-ins in a row before the account is locked.", L, 0, 1000),
    _number("lockout_minutes", 15, "Lockout duration (minutes)",
            "Minutes a lockout lasts.", L, 0, 366 * DAY_MINUTES),
    # OTP and messages
    _number("sms_otp_length", 6, "SMS code length", "Digits in an SMS one-time code.", M, 4, 12),
    _number("sms_otp_lifetime_minutes", 10, "SMS code lifetime (minutes)",
            "Minutes an SMS code stays valid.", M, 1, DAY_MINUTES),
    _number("email_token_lifetime_minutes", DAY_MINUTES, "Email link lifetime (minutes)",
            "Minutes an email link stays valid.", M, 1, 30 * DAY_MINUTES),
    _number("send_cooldown_seconds", 30, "Send cooldown (seconds)",
            "Seconds between two messages to the same recipient.", M, 0, 86400),
    _number("daily_email_cap", 10_000, "Emails per day", "Emails sent per day at most.", M),
    _number("daily_sms_cap", 1_000, "SMS per day", "SMS sent per day at most.", M),
    _number("new_email_recovery_hold_hours", 24, "New email recovery hold (hours)",
            "Hours an email added to an existing account cannot receive password-reset "
            "links.", M, 0, 24 * 366),
    # Rate limits
    _number("rate_limit_window_seconds", 60, "Rate limit window (seconds)",
            "Length of the window the API limits below count in; 0 = no limit.", R, 0, 86400),
    _number("rate_limit_per_tenant", 6000, "Calls per window: tenant",
            "Back-end calls per window for the whole tenant; 0 = no limit.", R),
    _number("rate_limit_per_credential", 3000, "Calls per window: one credential",
            "Back-end calls per window with one API secret; 0 = no limit.", R),
    _number("rate_limit_per_ip", 1200, "Calls per window: one IP",
            "Back-end calls per window from one client IP; 0 = no limit.", R),
    _number("rate_limit_key_only_per_tenant", 12000, "Public-key calls per window: tenant",
            "Calls with the public API key only (token side) per window for the whole "
            "tenant, counted apart from back-end calls; 0 = no limit.", R),
    _number("rate_limit_key_only_per_ip", 1200, "Public-key calls per window: one IP",
            "Calls with the public API key only per window from one client IP; 0 = no "
            "limit.", R),
    _number("rate_limit_sensitive_window_seconds", 300, "Sensitive operation window (seconds)",
            "Window the per-account limits below count in.", R, 1, 86400),
    _number("rate_limit_signin", 20, "Sign-ins per account",
            "Sign-in attempts per account per sensitive window.", R),
    _number("rate_limit_otp_verify", 10, "Code checks per account",
            "One-time code checks per account per sensitive window.", R),
    _number("rate_limit_token_send", 10, "Token sends per account",
            "Emails and SMS codes sent per account per sensitive window.", R),
    _number("rate_limit_reauth", 10, "Reauthentications per account",
            "Reauthentication attempts per account per sensitive window.", R),
    _number("rate_limit_passkey_login", 10, "Passkey sign-ins per identifier",
            "Passkey sign-in attempts per identifier (known or not) per sensitive window.", R),
    # Signing and API requests
    Setting("request_signing", Kind.CHOICE, "preferred", "Request signing",
            "Whether unsigned API requests are still accepted.", G,
            choices=(("preferred", "Preferred"), ("strict", "Strict: signed requests only"))),
    _flag("profile_update_strict_keys", False, "Refuse unknown profile keys",
          "Refuse a profile update naming a field the profile does not know (otherwise it "
          "is ignored, as LoginRadius ignores it).", G),
    # Password policy
    _number("password_min_length", 6, "Password minimum length",
            "Fewest characters in a new account password.", P,
            PASSWORD_LENGTH_FLOOR, PASSWORD_LENGTH_CEILING),
    _number("password_max_length", 32, "Password maximum length",
            "Most characters in a new account password (at least the minimum).", P,
            PASSWORD_LENGTH_FLOOR, PASSWORD_LENGTH_CEILING),
    Setting("password_required_character_classes", Kind.CHOICES, [],
            "Required character classes",
            "Kinds of character every new account password must contain.", P,
            choices=tuple((name, name.capitalize()) for name in CHARACTER_CLASSES)),
    _flag("password_common_check", True, "Refuse common passwords",
          "Refuse new account passwords on Django's list of about 20,000 common passwords.", P),
    # Retention
    _number("retention_events_days", 365, "Events kept (days)",
            "Days the audit events are kept before they are purged.", T, 1, 3650),
    _number("retention_signin_events_days", 90, "Sign-in events kept (days)",
            "Days sign-in attempts are kept before they are purged.", T, 1, 3650),
    _number("retention_webhook_deliveries_days", 30, "Webhook deliveries kept (days)",
            "Days webhook delivery records are kept.", T, 1, 365),
    _number("retention_job_reports_days", 30, "Job reports kept (days)",
            "Days bulk job reports are kept.", T, 1, 365),
    # Approvals (the gates are approvals.policy.GATES; a test holds the two lists equal)
    Setting("approval_gates", Kind.CHOICES, list(DEFAULT_APPROVAL_GATES),
            "Actions that need a second person",
            "A staff member or a credential marked for approval asks; another person with the "
            "approval permission decides. The LoginRadius paths are never held.", A,
            choices=APPROVAL_GATES),
    _number("approval_bulk_threshold", 100, "Bulk jobs held from (accounts)",
            "A bulk job selecting at least this many accounts needs approval.", A, 1, 100_000),
    _number("approval_expiry_hours", 24, "Approval requests expire after (hours)",
            "Hours a request waits for a decision before it expires.", A, 1, 24 * 30),
    # Notices to account holders (accounts.notices)
    Setting("notices_enabled", Kind.CHOICES, [value for value, _ in NOTICE_KINDS],
            "Notices sent", "What the account holder is told of, by email (SMS without one).",
            N, choices=NOTICE_KINDS),
    _flag("notices_name_staff", False, "Name the staff member",
          "Notices name the staff member who acted (otherwise they say \"support\").", N),
    Setting("support_contact", Kind.TEXT, "", "How to reach support",
            "Shown in every notice, e.g. an address or a page.", N, high=200),
    # Time-boxed staff access (portal.access_grants)
    _number("access_grant_max_hours", 72, "Longest grant (hours)",
            "Hours a Lead may give someone access to named accounts for a ticket.", X, 1, 720),
    _flag("break_glass_allowed", False, "Allow break-glass access",
          "Staff may give themselves short access to an account with a reason; the admins "
          "are told every time.", X),
    _number("break_glass_max_minutes", 60, "Longest break-glass access (minutes)",
            "Minutes a break-glass grant lasts at most.", X, 5, 480),
    # Guided recovery (security.services.recovery)
    Setting("recovery_checks", Kind.CHOICES, ["code"], "Identity checks",
            "What support checks before a factor reset or an email change for a holder who "
            "lost access.", Group.RECOVERY, choices=RECOVERY_CHECKS),
    _number("recovery_cooling_off_hours", 0, "Cooling-off (hours)",
            "Hours between the checks passing and the change running, during which the holder "
            "is told and may cancel it; 0 = it runs at once.", Group.RECOVERY, 0, 24 * 14),
    _number("recovery_check_attempts", 5, "Wrong tries per check",
            "Wrong codes or answers a recovery case accepts before that check can no longer "
            "pass.", Group.RECOVERY, 1, 20),
    # Masked personal data (portal.console.display; staff-facing API credentials too)
    Setting("masked_roles", Kind.CHOICES, ["viewer", "agent"], "Roles that see data masked",
            "Staff in these roles see emails, phone numbers, names and the custom fields below "
            "masked, and reveal an account's values with a reason, which is recorded.",
            Group.MASKING, choices=MASKABLE_ROLES),
    Setting("masked_custom_fields", Kind.TEXT, "", "Custom fields masked too",
            "Names of custom fields masked with them, separated by spaces or commas.",
            Group.MASKING, high=500),
)  # fmt: skip

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}
DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}


def grouped() -> list[tuple[Group, list[Setting]]]:
    """The settings by group, in the order people read them."""
    return [(group, [s for s in SETTINGS if s.group is group]) for group in GROUP_ORDER]


def problems_of(
    changes: Mapping[str, Any], *, current: Mapping[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    """The values to store for `changes` (None: back to the default) and every problem at
    once: unknown names, wrong types, out-of-bounds values, and the rules between settings
    judged on the tenant's settings as they would be (`current` holds the stored ones)."""
    values: dict[str, Any] = {}
    problems: list[FieldError] = []
    for name, value in changes.items():
        setting = BY_NAME.get(name)
        if setting is None:
            problems.append(FieldError(name, "No such setting.", "unknown"))
            continue
        checked, why = setting.checked(value)
        if why is not None:
            problems.append(FieldError(name, why, "invalid"))
        else:
            values[name] = checked
    lengths = ("password_min_length", "password_max_length")
    if not any(problem.field in lengths for problem in problems):
        effective = {**DEFAULTS, **current, **values}
        if effective["password_min_length"] > effective["password_max_length"]:
            problems.append(
                FieldError(
                    "password_max_length",
                    "The maximum length cannot be below the minimum length.",
                    "invalid",
                )
            )
    return values, problems


def effective(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting's value: the stored ones, the defaults for the rest."""
    return {name: stored.get(name, default) for name, default in DEFAULTS.items()}


def version_of(stored: Mapping[str, Any]) -> str:
    """The version of a tenant's settings (its ETag): it changes whenever a value does."""
    canonical = json.dumps(effective(stored), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


@register
class TenantSettingsVersionStale(DomainError):
    """The change was made against other settings than the stored ones (`If-Match`)."""

    code = "tenant.version_stale"
    kind = ErrorKind.PRECONDITION
    title = "Tenant settings changed since they were read"
    default_message = (
        "The tenant's settings changed since they were read; read them again and retry."
    )
