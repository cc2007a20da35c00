"""Reads of accounts. Every selector takes the tenant: another tenant's UID is "not found"."""

from django.db.models.functions import Lower

from accounts.models import Account, AccountEmail
from portal.lrapi.errors import LRError
from portal.models import Tenant


def account_get(*, tenant: Tenant, uid: str | None) -> Account:
    """The account with this UID in this tenant, or LoginRadius 938."""
    if not uid:
        raise LRError(908, "The uid is a required parameter.")
    account = Account.objects.filter(tenant=tenant, uid=uid).first()
    if account is None:
        raise LRError(938)
    return account


def account_get_by_email(*, tenant: Tenant, email: str | None) -> Account:
    if not email:
        raise LRError(908, "The email is a required parameter.")
    row = (
        AccountEmail.objects.annotate(value_lower=Lower("value"))
        .filter(tenant=tenant, value_lower=email.strip().lower())
        .select_related("account")
        .first()
    )
    if row is None:
        raise LRError(938)
    return row.account
