from django.core.management.base import BaseCommand, CommandError

from portal import services
from portal.audit import Actor
from portal.models import ApiCredential
from portal.tenant_commands import CredentialRevoke


class Command(BaseCommand):
    help = "Revoke an API secret by its credential id (see the admin or credential_rotate --json)."

    def add_arguments(self, parser):
        parser.add_argument("credential_id", type=int)
        parser.add_argument("--reason", default="revoked from the command line")

    def handle(self, *args, credential_id, reason, **options):
        credential = ApiCredential.objects.filter(pk=credential_id).select_related("tenant").first()
        if credential is None:
            raise CommandError(f"no credential {credential_id}")
        services.credential_revoke(
            CredentialRevoke(credential_id=credential.pk, reason=reason),
            tenant=credential.tenant,
            actor=Actor.system("manage.py"),
        )
        self.stdout.write(f"Revoked credential {credential_id} of {credential.tenant.slug}.")
