import json

from django.core.management.base import BaseCommand

from portal import services
from portal.audit import Actor
from portal.tenant_commands import TenantCreate


class Command(BaseCommand):
    help = "Create a tenant and print its API key and a new API secret (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--slug", default=None)
        parser.add_argument(
            "--json", action="store_true", help="print {api_key, api_secret} as JSON"
        )

    def handle(self, *args, name, slug, json: bool = False, **options):
        tenant, issued = services.tenant_create(
            TenantCreate(name=name, slug=slug), actor=Actor.system("manage.py")
        )
        payload = {
            "tenant": tenant.slug,
            "api_key": tenant.api_key,
            "api_secret": issued.raw_secret,
        }
        if json:
            self.stdout.write(_dumps(payload))
        else:
            self.stdout.write(f"Tenant:     {tenant.name} ({tenant.slug})")
            self.stdout.write(f"API key:    {tenant.api_key}")
            self.stdout.write(f"API secret: {issued.raw_secret}   (shown once; store it now)")


def _dumps(payload: dict) -> str:
    return json.dumps(payload)
