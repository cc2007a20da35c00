"""Writes of the account's phone id: replace, mark verified, invalidate."""

from typing import Any

from django.db import IntegrityError, transaction

from accounts import profile_fields as pf
from accounts.errors import NoPhone, PhoneAlreadyUnverified, PhoneTaken
from accounts.models import Account
from accounts.services.shared import event_record, integrity_error, search_text_refresh
from portal.audit import Actor
from portal.errors import FieldRequired
from portal.models import Tenant


def account_phone_update(
    *,
    tenant: Tenant,
    actor: Actor,
    account: Account,
    phone: Any,
    reason: str = "",
    ticket: str = "",
) -> Account:
    """Replace the phone id directly (no OTP: a back end vouches for it)."""
    if phone is None or (isinstance(phone, str) and not phone.strip()):
        raise FieldRequired("phone")
    phone_id = pf.clean_phone(phone)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
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
            reason=reason,
            ticket=ticket,
            changes={"PhoneId": [before, phone_id]} if before != phone_id else {},
        )
    return account


def account_phone_mark_verified(*, tenant: Tenant, actor: Actor, account: Account) -> Account:
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
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
            changes={"PhoneIdVerified": [was, True]} if not was else {},
        )
    return account


def account_phone_verification_invalidate(
    *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Mark the phone unverified (NoPhone without a phone, PhoneAlreadyUnverified if already
    unverified); the caller sends a new verification OTP in the same transaction."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
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
            changes={"PhoneIdVerified": [True, False]},
        )
    return account
