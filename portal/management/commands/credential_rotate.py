import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal import services
from portal.audit import Actor
from portal.models import ApiCredential, Tenant
from portal.tenant_commands import CredentialRotate


class Command(BaseCommand):
    help = (
        "Rotate API secrets one credential at a time: each new secret keeps the label and sections "
        "of the one it replaces, which keeps working for --overlap-hours. With --credential only "
        "that secret is rotated; without it, every live secret of the tenant is."
    )

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug or API key")
        parser.add_argument(
            "--credential",
            type=int,
            metavar="ID",
            help="rotate only this credential (its id, as in the console or --json output)",
        )
        parser.add_argument(
            "--overlap-hours",
            type=float,
            default=services.DEFAULT_ROTATION_OVERLAP.total_seconds() / 3600,
            help="how long each replaced secret keeps working (0 = revoke it now; default 24)",
        )
        parser.add_argument(
            "--reason",
            default="rotated with manage.py credential_rotate",
            help="written to the audit log with the rotation",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, tenant, credential, overlap_hours, reason, json, **options):
        target = (
            Tenant.objects.filter(slug=tenant).first()
            or Tenant.objects.filter(api_key=tenant).first()
        )
        if target is None:
            raise CommandError(f"no tenant {tenant!r}")
        live = ApiCredential.objects.usable().filter(tenant=target).order_by("pk")
        if credential is not None:
            live = live.filter(pk=credential)
            if not live.exists():
                raise CommandError(f"no live credential {credential} on tenant {target.slug!r}")
        elif not live.exists():
            raise CommandError(
                f"tenant {target.slug!r} has no live secret to rotate: create one instead"
            )
        overlap_seconds = round(overlap_hours * 3600)
        actor = Actor.system("manage.py")
        try:
            with transaction.atomic():  # all of the tenant's secrets, or none
                issued = [
                    (
                        old,
                        services.credential_rotate(
                            CredentialRotate(
                                credential_id=old.pk,
                                reason=reason,
                                overlap_seconds=overlap_seconds,
                            ),
                            tenant=target,
                            actor=actor,
                        ),
                    )
                    for old in list(live)
                ]
        except services.CredentialRotationRefused as refused:
            raise CommandError(str(refused)) from refused
        rows = [
            {
                "credential_id": new.credential.pk,
                "replaces": old.pk,
                "label": new.credential.label,
                "scopes": new.credential.scopes,
                "api_secret": new.raw_secret,
            }
            for old, new in issued
        ]
        if json:
            payload = {"api_key": target.api_key, "credentials": rows}
            if len(rows) == 1:  # the single-secret shape scripts already read
                payload.update(
                    api_secret=rows[0]["api_secret"], credential_id=rows[0]["credential_id"]
                )
            self.stdout.write(_dumps(payload))
            return
        for row in rows:
            label = row["label"] or "(no label)"
            self.stdout.write(
                f"{label}: new API secret {row['api_secret']}   (shown once; "
                f"credential {row['credential_id']} replaces {row['replaces']})"
            )
        if overlap_hours:
            self.stdout.write(f"The replaced secrets stop working in {overlap_hours:g} hours.")
        else:
            self.stdout.write("The replaced secrets are revoked.")


def _dumps(payload: dict) -> str:
    return json.dumps(payload)
