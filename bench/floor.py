"""The old floor: Django views doing the least database work each operation needs (one
indexed read for a read; lock + update + insert for a rotation; count + one page for a
search), with no authentication, audit, cache or wire formatting, served inside the
project's settings (bench.settings), so every request walks the project's middleware.
Kept next to the bare floor (bench.bare), which runs none, so one release shows its ratio
against both; every operation has one here, the searches included."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models.functions import Lower
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils import timezone

from accounts.filters import PREFIX_ID_LIST_MAX
from accounts.models import Account, AccountEmail
from customobjects.models import CustomObjectRecord
from portal.crypto import token_hash
from roles.models import AccountRole
from tokens.models import AccessToken, RefreshToken

ACCOUNT_FIELDS = ("uid", "first_name", "last_name", "phone_id", "email_verified", "profile")
PAGE = 20


def _tenant(request) -> int:
    return int(request.GET.get("t", "0"))


def _found(row) -> JsonResponse:
    return JsonResponse(row or {}, status=200 if row else 404, safe=False)


def account_by_uid(request, uid):
    return _found(
        Account.objects.filter(tenant_id=_tenant(request), uid=uid).values(*ACCOUNT_FIELDS).first()
    )


def account_by_email(request):
    email = request.GET.get("email", "").lower()
    return _found(
        AccountEmail.objects.annotate(v=Lower("value"))
        .filter(tenant_id=_tenant(request), v=email)
        .values(*(f"account__{f}" for f in ACCOUNT_FIELDS))
        .first()
    )


def token_read(request):
    raw = request.GET.get("token", "")
    return _found(
        AccessToken.objects.filter(token_hash=token_hash(raw))
        .values("account_id", "expires_at", "revoked_at")
        .first()
    )


def rotate(request):
    hashed = request.GET.get("h", "")
    now = timezone.now()
    with transaction.atomic():
        # The UPDATE takes the row lock first (on SQLite, the write lock, so no deferred
        # read-then-write transaction can deadlock), then the row is read and its successor inserted.
        if not RefreshToken.objects.filter(token_hash=hashed).update(rotated_at=now):
            return _found(None)
        row = (
            RefreshToken.objects.filter(token_hash=hashed)
            .values("tenant_id", "account_id", "family_id")
            .first()
        )
        RefreshToken.objects.create(
            tenant_id=row["tenant_id"],
            account_id=row["account_id"],
            family_id=row["family_id"],
            token_hash=secrets.token_hex(32),
            expires_at=now + timedelta(days=1),
        )
    return JsonResponse({"rotated": True})


def permissions(request, uid):
    rows = AccountRole.objects.filter(
        account__tenant_id=_tenant(request), account__uid=uid
    ).values_list("role__permissions", flat=True)
    return JsonResponse({"permissions": sorted({p for perms in rows for p in perms})})


def custom_object(request, uid, record_id):
    return _found(
        CustomObjectRecord.objects.filter(
            tenant_id=_tenant(request),
            account__uid=uid,
            record_id=record_id,
            object_type__name=request.GET.get("objectname", ""),
        )
        .values("record_id", "data", "version")
        .first()
    )


def search(request):
    kind, q, tenant = request.GET.get("kind"), request.GET.get("q", ""), _tenant(request)
    accounts = Account.objects.filter(tenant_id=tenant)
    if kind == "email":
        accounts = accounts.filter(
            pk__in=AccountEmail.objects.annotate(v=Lower("value"))
            .filter(tenant_id=tenant, v=q.lower())
            .values("account_id")
        )
    elif kind == "email_prefix":
        # Ids first, as the project does: a subquery sometimes gets a plan that walks the
        # whole table (see accounts.filters.AccountFilter.filter_email_prefix).
        accounts = accounts.filter(
            pk__in=list(
                AccountEmail.objects.annotate(v=Lower("value"))
                .filter(tenant_id=tenant, v__startswith=q.lower())
                .order_by()
                .values_list("account_id", flat=True)[: PREFIX_ID_LIST_MAX + 1]
            )
        )
    elif kind == "search":
        accounts = accounts.filter(search_text__contains=q.lower())
    elif kind == "phone":
        accounts = accounts.filter(phone_id=q.replace(" ", "+"))
    elif kind == "uid":
        accounts = accounts.filter(uid=q)
    else:
        return HttpResponseBadRequest()
    total = accounts.count()
    page = list(accounts.order_by("-id").values(*ACCOUNT_FIELDS)[:PAGE])
    return JsonResponse({"count": total, "results": page})
