"""Links between the account and provider identities (social or enterprise sign-in)."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import profile_fields as pf
from accounts.commands import EmailAddress, IdentityLink, IdentityUnlink
from accounts.errors import IdentityNotLinked, IdentityTaken, LastSignInMethod
from accounts.models import Account, AccountEmail, AccountIdentity, AccountIdentityEmail
from accounts.services.shared import account_locked, event_record, integrity_error
from portal import events
from portal.audit import Actor
from portal.errors import FieldRequired
from portal.models import Tenant


def _clean_identity_emails(emails: tuple[EmailAddress, ...]) -> list[dict[str, str]]:
    """The provider's addresses as the identity keeps them (a Type cut to its length)."""
    pf.reject_nul([[e.type, e.value] for e in emails], "emails")
    return [
        {
            "Type": str(e.type or "Primary")[: pf.EMAIL_TYPE_MAX_LENGTH],
            "Value": pf.clean_email(e.value),
        }
        for e in emails
    ]


def _clean_provider(provider: Any, provider_id: Any) -> tuple[str, str]:
    if not isinstance(provider, str) or not provider.strip():
        raise FieldRequired("provider")
    if (
        not isinstance(provider_id, str | int)
        or isinstance(provider_id, bool)
        or not str(provider_id).strip()
    ):
        raise FieldRequired("providerid")
    provider, provider_id = provider.strip().lower(), str(provider_id).strip()
    pf.reject_nul(provider, "provider")
    pf.reject_nul(provider_id, "providerid")
    if len(provider) > 50 or len(provider_id) > 255:
        raise pf.invalid("provider", "provider or provider id is too long.")
    return provider, provider_id


@events.emits("account_identity.linked")
def account_identity_link(
    command: IdentityLink, *, tenant: Tenant, actor: Actor, account: Account
) -> AccountIdentity:
    """Link a provider identity to the account (or refresh its profile if it already is);
    refused when that provider identity belongs to another account."""
    provider, provider_id = _clean_provider(command.provider, command.provider_id)
    profile = command.profile
    if profile is not None and not isinstance(profile, dict):
        raise pf.invalid("profile", "profile must be an object.")
    pf.reject_nul(profile, "profile")
    email_items = _clean_identity_emails(command.emails)
    with transaction.atomic():
        if command.expected_version is not None:
            account_locked(account, expected_version=command.expected_version)
        existing = AccountIdentity.objects.filter(
            tenant=tenant, provider=provider, provider_id=provider_id
        ).first()
        if existing is not None and existing.account_id != account.pk:
            raise IdentityTaken()
        data = {**(profile or {}), "Email": email_items}
        try:
            with transaction.atomic():
                if existing is None:
                    identity = AccountIdentity.objects.create(
                        tenant=tenant,
                        account=account,
                        provider=provider,
                        provider_id=provider_id,
                        profile=data,
                    )
                else:
                    identity = existing
                    identity.profile = data
                    identity.save(update_fields=["profile"])
                    identity.emails.all().delete()
                AccountIdentityEmail.objects.bulk_create(
                    [
                        AccountIdentityEmail(
                            tenant=tenant, identity=identity, type=e["Type"], value=e["Value"]
                        )
                        for e in email_items
                    ]
                )
        except IntegrityError as exc:
            raise integrity_error(exc) from exc
        Account.objects.filter(pk=account.pk).update(modified=timezone.now())
        event_record(
            tenant=tenant,
            actor=actor,
            action="account_identity.linked",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={"Identity": [None, f"{provider}:{provider_id}"]} if existing is None else {},
        )
    return identity


@events.emits("account_identity.unlinked")
def account_identity_unlink(
    command: IdentityUnlink, *, tenant: Tenant, actor: Actor, account: Account
) -> None:
    """Unlink a provider identity, unless it is the account's last way to sign in."""
    provider, provider_id = _clean_provider(command.provider, command.provider_id)
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        identity = AccountIdentity.objects.filter(
            tenant=tenant, account=account, provider=provider, provider_id=provider_id
        ).first()
        if identity is None:
            raise IdentityNotLinked()
        has_password_login = bool(account.password) and (
            bool(account.username)
            or bool(account.phone_id)
            or AccountEmail.objects.filter(account=account).exists()
        )
        has_other_identity = (
            AccountIdentity.objects.filter(account=account).exclude(pk=identity.pk).exists()
        )
        if not has_password_login and not has_other_identity:
            raise LastSignInMethod()
        identity.delete()
        Account.objects.filter(pk=account.pk).update(modified=timezone.now())
        event_record(
            tenant=tenant,
            actor=actor,
            action="account_identity.unlinked",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={"Identity": [f"{provider}:{provider_id}", None]},
        )
