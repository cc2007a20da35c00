from django.core.management.base import BaseCommand

from portal import services
from portal.audit import Actor
from portal.models import ApiCredential, Tenant
from portal.tenant_commands import CredentialCreate, TenantCreate

DEMO_SLUG = "demo"


class Command(BaseCommand):
    help = "Create the demo tenant if missing and print its API key and secret (for make run)."

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
        if tenant is None:
            tenant, issued = services.tenant_create(
                TenantCreate(name="Demo", slug=DEMO_SLUG), actor=Actor.system("make run")
            )
            secret = issued.raw_secret
        else:
            credential = (
                ApiCredential.objects.usable().filter(tenant=tenant).order_by("-created").first()
            )
            if credential is None:
                secret = services.credential_create(
                    CredentialCreate(label="demo"), tenant=tenant, actor=Actor.system("make run")
                ).raw_secret
            else:
                # The demo secret is shown on every start for convenience; it is stored
                # encrypted (signed requests need it), so it can be recovered here.
                secret = credential.raw_secret()
        self.stdout.write("")
        self.stdout.write("Demo tenant ready:")
        self.stdout.write(f"  API key:    {tenant.api_key}")
        self.stdout.write(f"  API secret: {secret}")
        self.stdout.write(
            f'  try: curl "http://127.0.0.1:8000/api/v1/tenant?apikey={tenant.api_key}" '
            f'-H "X-LoginRadius-ApiSecret: {secret}"'
        )
        self.stdout.write("")
