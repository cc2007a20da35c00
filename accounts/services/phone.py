"""Writes of the account's phone id: replace, mark verified, invalidate."""

from django.db import IntegrityError, transaction

from accounts import profile_fields as pf
from accounts.commands import PhoneMarkVerified, PhoneSet, PhoneVerificationInvalidate
from accounts.errors import NoPhone, PhoneAlreadyUnverified, PhoneTaken
from accounts.models import Account
from accounts.services.shared import (
    account_locked,
    event_record,
    integrity_error,
    search_text_refresh,
)
from portal import events
from portal.audit import Actor
from portal.errors import FieldRequired
from portal.models import Tenant


@events.emits("account_phone.updated")
def account_phone_update(
    command: PhoneSet, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Replace the phone id directly (no OTP: a back end vouches for it)."""
    phone = command.phone
    if phone is None or (isinstance(phone, str) and not phone.strip()):
        raise FieldRequired("phone")
    phone_id = pf.clean_phone(phone)
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        if Account.objects.filter(tenant=tenant, phone_id=phone_id).exclude(pk=account.pk).exists():
            raise PhoneTaken()
        before = account.phone_id
        account.phone_id = phone_id
        if before != phone_id:
            account.phone_id_verified = False
        try:
            with transaction.atomic():
                account.save(update_fields=["phone_id", "phone_id_verified", "modified"])
        except IntegrityError as exc:
            raise integrity_error(exc) from exc
        search_text_refresh(account=account)
        event_record(
            tenant=tenant,
            actor=actor,
            action="account_phone.updated",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={"PhoneId": [before, phone_id]} if before != phone_id else {},
        )
    return account


@events.emits("account_phone.verified")
def account_phone_mark_verified(
    command: PhoneMarkVerified, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """The owner proved the phone id (OTP), or a back end vouches for it: it is verified
    (NoPhone without one)."""
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        if not account.phone_id:
            raise NoPhone()
        was = account.phone_id_verified
        account.phone_id_verified = True
        account.save(update_fields=["phone_id_verified", "modified"])
        event_record(
            tenant=tenant,
            actor=actor,
            action="account_phone.verified",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={"PhoneIdVerified": [was, True]} if not was else {},
        )
    return account


@events.emits("account_phone.verification_invalidated")
def account_phone_verification_invalidate(
    command: PhoneVerificationInvalidate, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Mark the phone unverified (NoPhone without a phone, PhoneAlreadyUnverified if already
    unverified); the caller sends a new verification OTP in the same transaction."""
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        if not account.phone_id:
            raise NoPhone()
        if not account.phone_id_verified:
            raise PhoneAlreadyUnverified()
        account.phone_id_verified = False
        account.save(update_fields=["phone_id_verified", "modified"])
        event_record(
            tenant=tenant,
            actor=actor,
            action="account_phone.verification_invalidated",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={"PhoneIdVerified": [True, False]},
        )
    return account
