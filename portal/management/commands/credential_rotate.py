import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal import services
from portal.audit import Actor
from portal.models import Tenant


class Command(BaseCommand):
    help = "Issue a new API secret for a tenant; older secrets stay valid for --overlap-hours."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug or API key")
        parser.add_argument("--overlap-hours", type=float, default=24.0,
                            help="how long older secrets keep working (0 = revoke now)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, tenant, overlap_hours, json, **options):
        target = Tenant.objects.filter(slug=tenant).first() or Tenant.objects.filter(api_key=tenant).first()
        if target is None:
            raise CommandError(f"no tenant {tenant!r}")
        issued = services.credential_rotate(
            tenant=target, actor=Actor.system("manage.py"),
            revoke_others_at=timezone.now() + timedelta(hours=overlap_hours),
        )
        if json:
            self.stdout.write(_dumps({"api_key": target.api_key, "api_secret": issued.raw_secret,
                                      "credential_id": issued.credential.pk}))
        else:
            self.stdout.write(f"New API secret: {issued.raw_secret}   (shown once)")
            self.stdout.write(f"Older secrets stop working in {overlap_hours:g} hours.")


def _dumps(payload: dict) -> str:
    return json.dumps(payload)
