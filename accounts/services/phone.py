"""Writes of the account's phone id: replace, mark verified, invalidate."""

from typing import Any

from django.db import IntegrityError, transaction

from accounts import profile_fields as pf
from accounts.models import Account
from accounts.services.shared import event_record, integrity_error, search_text_refresh
from portal.audit import Actor
from portal.lrapi.errors import LRError, required
from portal.models import Tenant


def account_phone_update(
    *, tenant: Tenant, actor: Actor, account: Account, phone: Any, reason: str = "", ticket: str = ""
) -> Account:
    """Replace the phone id directly (no OTP: a back end vouches for it)."""
    if phone is None or (isinstance(phone, str) and not phone.strip()):
        raise required("phone")
    phone_id = pf.clean_phone(phone)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        if Account.objects.filter(tenant=tenant, phone_id=phone_id).exclude(pk=account.pk).exists():
            raise LRError(1058)
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
        event_record(tenant=tenant, actor=actor, action="account_phone.updated", account=account,
                reason=reason, ticket=ticket, changes={"PhoneId": [before, phone_id]} if before != phone_id else {})
    return account


def account_phone_mark_verified(*, tenant: Tenant, actor: Actor, account: Account) -> Account:
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        if not account.phone_id:
            raise LRError(1147)
        was = account.phone_id_verified
        account.phone_id_verified = True
        account.save(update_fields=["phone_id_verified", "modified"])
        event_record(tenant=tenant, actor=actor, action="account_phone.verified", account=account,
                changes={"PhoneIdVerified": [was, True]} if not was else {})
    return account


def account_phone_verification_invalidate(
    *, tenant: Tenant, actor: Actor, account: Account, template: str = "", voice: bool = False
) -> Account:
    """Mark the phone unverified and queue a verification OTP (1147 without a phone, 1161
    if already unverified)."""
    from tokens.services.multipurpose import phone_verification_send

    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        if not account.phone_id:
            raise LRError(1147)
        if not account.phone_id_verified:
            raise LRError(1161)
        account.phone_id_verified = False
        account.save(update_fields=["phone_id_verified", "modified"])
        phone_verification_send(tenant=tenant, account=account, actor=actor, template=template or "", voice=voice)
        event_record(tenant=tenant, actor=actor, action="account_phone.verification_invalidated", account=account,
                changes={"PhoneIdVerified": [True, False]})
    return account
