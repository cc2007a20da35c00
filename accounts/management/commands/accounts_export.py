"""Export a tenant's accounts as JSON Lines, in the format `accounts_import` reads.

Streams in primary-key order with a server-side cursor (constant memory whatever the
tenant's size); passwords leave as their stored hash. One audit event (`account.exported`,
the count) is written at the end.
"""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Prefetch

from accounts.management.commands.accounts_import import Progress, find_tenant
from accounts.models import Account, AccountEmail
from portal import audit, events
from portal.audit import Actor


def account_record(account: Account) -> dict[str, Any]:
    """One account as an import record."""
    emails = list(account.emails.all())
    data: dict[str, Any] = {
        "Uid": account.uid,
        "Email": [{"Type": e.type, "Value": e.value} for e in emails],
        "EmailVerified": account.email_verified,
        "PhoneId": account.phone_id,
        "PhoneIdVerified": account.phone_id_verified,
        "UserName": account.username,
        "FirstName": account.first_name,
        "MiddleName": account.middle_name,
        "LastName": account.last_name,
        "Password": account.password,
        "Roles": sorted(a.role.name for a in account.role_assignments.all()),
        "CustomFields": account.custom_fields or {},
        "IsActive": account.is_active,
        "IsEmailSubscribed": account.is_email_subscribed,
        "RegistrationProvider": account.registration_provider,
        "RegistrationSource": account.registration_source,
    }
    for key, value in (account.profile or {}).items():
        data.setdefault(key, value)
    return {k: v for k, v in data.items() if v not in (None, "")}


class Command(BaseCommand):
    help = "Export a tenant's accounts as JSON Lines (the accounts_import format)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug, API key or id")
        parser.add_argument(
            "--output", "-o", default="-", help="output file; - for standard output"
        )
        parser.add_argument("--chunk-size", type=int, default=2000)
        parser.add_argument("--no-progress", action="store_true")

    @events.emits("account.exported")
    def handle(self, *args, tenant, output, chunk_size, no_progress, **options):
        from roles.models import AccountRole

        tenant_obj = find_tenant(tenant)
        qs = (
            Account.objects.filter(tenant=tenant_obj)
            .order_by("pk")
            .prefetch_related(
                Prefetch("emails", queryset=AccountEmail.objects.order_by("id")),
                Prefetch("role_assignments", queryset=AccountRole.objects.select_related("role")),
            )
        )
        total = Account.objects.filter(tenant=tenant_obj).count()
        progress = Progress(self.stderr, total, not no_progress and output != "-")
        out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
        count = 0
        try:
            for account in qs.iterator(chunk_size=chunk_size):
                out.write(
                    json.dumps(account_record(account), ensure_ascii=False, separators=(",", ":"))
                )
                out.write("\n")
                count += 1
                progress.update(count)
        finally:
            progress.update(count, final=True)
            if out is not sys.stdout:
                out.close()
            else:
                out.flush()
        with transaction.atomic():
            audit.record(
                tenant=tenant_obj,
                actor=Actor.system("accounts_export"),
                action="account.exported",
                changes={"exported": count},
            )
        if output != "-":
            self.stdout.write(f"exported {count} accounts to {output}")
