"""Writes of the account's email addresses: add or change by Type, remove, make primary,
mark verified, mark unverified. A newly added address waits out the tenant's recovery hold
before it may receive a forgot-password token, and the former primary address is told."""

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import profile_fields as pf
from accounts.commands import (
    EmailEdit,
    EmailMakePrimary,
    EmailMarkVerified,
    EmailRemove,
    EmailUpsert,
    EmailVerificationInvalidate,
)
from accounts.errors import (
    EmailAlreadyUnverified,
    EmailNotInProfile,
    EmailRecoveryHeld,
    EmailsNotDistinct,
    LastEmail,
    NoEmailToUnverify,
)
from accounts.models import Account, AccountEmail
from accounts.services.shared import (
    ProfileChanges,
    account_locked,
    event_record,
    identifiers_check_free,
    integrity_error,
    search_text_refresh,
)
from portal import events
from portal.audit import Actor
from portal.errors import FieldRequired
from portal.models import Tenant


def _recovery_hold_end(tenant: Tenant) -> datetime:
    hours = max(float(tenant.setting("new_email_recovery_hold_hours") or 0), 0.0)
    return timezone.now() + timedelta(hours=hours)


@events.reads
def email_recovery_check(*, account: Account, email: str) -> None:
    """Refuse a forgot-password token for an address added too recently."""
    row = AccountEmail.objects.filter(account=account, value__iexact=email).first()
    if row is not None and row.recovery_after is not None and row.recovery_after > timezone.now():
        raise EmailRecoveryHeld(row.recovery_after)


@events.step
def email_rows_upsert(
    *, tenant: Tenant, account: Account, items: list[EmailEdit], rows: list[AccountEmail]
) -> list[AccountEmail]:
    """Apply checked address edits to the account's rows: same Type = new value, new Type =
    appended, a removal = removed. Returns the rows afterwards; refuses to leave none
    (LastEmail)."""
    by_type = {r.type.lower(): r for r in rows}
    by_value = {r.value.lower(): r for r in rows}
    had_any = bool(rows)
    for item in items:
        value = item.value
        if item.remove:
            row = by_value.pop(value.lower(), None)
            if row is not None:
                by_type.pop(row.type.lower(), None)
                row.delete()
            continue
        same_value = by_value.get(value.lower())
        row = by_type.get(item.type.lower())
        if same_value is not None and same_value is not row:
            raise EmailsNotDistinct()
        if row is None:
            row = AccountEmail.objects.create(
                tenant=tenant,
                account=account,
                type=item.type,
                value=value,
                recovery_after=_recovery_hold_end(tenant) if had_any else None,
            )
            by_type[row.type.lower()] = row
            by_value[value.lower()] = row
        elif row.value != value:
            by_value.pop(row.value.lower(), None)
            if row.value.lower() != value.lower():
                row.verified = (
                    False  # another address; a new spelling of the same one stays verified
                )
                row.recovery_after = _recovery_hold_end(tenant)
            row.value = value
            row.save(update_fields=["value", "verified", "recovery_after"])
            by_value[value.lower()] = row
    result = sorted(by_type.values(), key=lambda r: r.pk)
    if had_any and not result:
        raise LastEmail()
    return result


# ---------------------------------------------------------------- services


@events.emits("account_email.upserted")
def account_email_upsert(
    command: EmailUpsert, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Add or change emails by Type: an existing Type gets the new value (unverified), a new
    Type is appended."""
    pf.reject_nul([[e.type, e.value] for e in command.emails], "Email")
    items = pf.email_edits_check(
        [EmailEdit(type=e.type, value=e.value) for e in command.emails], allow_remove=False
    )
    if not items:
        raise FieldRequired("Email")
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        rows = list(AccountEmail.objects.filter(account=account).order_by("id"))
        before = [f"{r.type}:{r.value}" for r in rows]
        changes = ProfileChanges()
        changes.emails = items
        identifiers_check_free(tenant=tenant, account=account, changes=changes)
        try:
            with transaction.atomic():
                rows = email_rows_upsert(tenant=tenant, account=account, items=items, rows=rows)
        except IntegrityError as exc:
            raise integrity_error(exc) from exc
        search_text_refresh(account=account, emails=[r.value for r in rows])
        Account.objects.filter(pk=account.pk).update(modified=timezone.now())
        event_record(
            tenant=tenant,
            actor=actor,
            action="account_email.upserted",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={"Email": [before, [f"{r.type}:{r.value}" for r in rows]]},
        )
    return account


def _email_argument(email: Any) -> str:
    """The email a call names, cleaned; FieldRequired when absent or blank."""
    if email is None or (isinstance(email, str) and not email.strip()):
        raise FieldRequired("email")
    return pf.clean_email(email)


def _locked_with_email(
    account: Account, value: str, *, expected_version: str | None
) -> tuple[Account, list[AccountEmail], AccountEmail]:
    """The account, locked, its emails (oldest first) and the one whose address is `value`
    in any case; EmailNotInProfile when it has none. Runs inside the caller's transaction."""
    account = account_locked(account, expected_version=expected_version)
    rows = list(AccountEmail.objects.filter(account=account).order_by("id"))
    row = next((r for r in rows if r.value.lower() == value.lower()), None)
    if row is None:
        raise EmailNotInProfile()
    return account, rows, row


@events.emits("account_email.removed")
def account_email_remove(
    command: EmailRemove, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Remove one email; never the last one (LastEmail)."""
    value = _email_argument(command.email)
    with transaction.atomic():
        account, rows, row = _locked_with_email(
            account, value, expected_version=command.expected_version
        )
        if len(rows) == 1:
            raise LastEmail()
        row.delete()
        remaining = [r.value for r in rows if r.pk != row.pk]
        search_text_refresh(account=account, emails=remaining)
        Account.objects.filter(pk=account.pk).update(modified=timezone.now())
        event_record(
            tenant=tenant,
            actor=actor,
            action="account_email.removed",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={"Email": [f"{row.type}:{row.value}", None]},
        )
    return account


@events.emits("account_email.made_primary")
def account_email_make_primary(
    command: EmailMakePrimary, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Make one of the account's emails its Primary (EmailNotInProfile if it has none). The
    former primary becomes Secondary, or takes the promoted email's old type when another
    email is already Secondary, so each type still names one email; every email keeps its
    verified state."""
    value = _email_argument(command.email)
    with transaction.atomic():
        account, rows, row = _locked_with_email(
            account, value, expected_version=command.expected_version
        )
        if row.type.lower() == "primary":
            return account
        before = [f"{r.type}:{r.value}" for r in rows]
        secondary_taken = any(r.type.lower() == "secondary" for r in rows if r.pk != row.pk)
        demoted_type = row.type if secondary_taken else "Secondary"
        for other in rows:
            if other.type.lower() == "primary":
                other.type = demoted_type
                other.save(update_fields=["type"])
        row.type = "Primary"
        row.save(update_fields=["type"])
        Account.objects.filter(pk=account.pk).update(modified=timezone.now())
        event_record(
            tenant=tenant,
            actor=actor,
            action="account_email.made_primary",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={"Email": [before, [f"{r.type}:{r.value}" for r in rows]]},
        )
    return account


@events.emits("account_email.verified")
def account_email_mark_verified(
    command: EmailMarkVerified, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """The owner proved `command.email` (verification link, OTP): the email and the account
    are verified."""
    email = str(command.email or "").strip().lower()
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        row = next(
            (r for r in AccountEmail.objects.filter(account=account) if r.value.lower() == email),
            None,
        )
        if row is None:
            raise EmailNotInProfile()
        was = (row.verified, account.email_verified)
        row.verified = True
        row.save(update_fields=["verified"])
        account.email_verified = True
        account.save(update_fields=["email_verified", "modified"])
        event_record(
            tenant=tenant,
            actor=actor,
            action="account_email.verified",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={"EmailVerified": [was[1], True], "Email": [row.value, row.value]}
            if was != (True, True)
            else {},
        )
    return account


@events.emits("account_email.verification_invalidated")
def account_email_verification_invalidate(
    command: EmailVerificationInvalidate, *, tenant: Tenant, actor: Actor, account: Account
) -> str:
    """Mark the account's emails unverified (NoEmailToUnverify without an email,
    EmailAlreadyUnverified if already unverified). Returns the address a new verification
    message goes to, the primary one: the caller sends it in the same transaction."""
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        rows = list(AccountEmail.objects.filter(account=account).order_by("id"))
        if not rows:
            raise NoEmailToUnverify()
        if not account.email_verified:
            raise EmailAlreadyUnverified()
        account.email_verified = False
        account.save(update_fields=["email_verified", "modified"])
        AccountEmail.objects.filter(account=account).update(verified=False)
        primary = next((r for r in rows if r.type.lower() == "primary"), rows[0])
        event_record(
            tenant=tenant,
            actor=actor,
            action="account_email.verification_invalidated",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={"EmailVerified": [True, False]},
        )
    return primary.value
