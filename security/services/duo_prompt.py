"""Duo Universal Prompt: the tenant's Duo application and the prompts of sign-ins and
reauthentications (the server-to-server calls are in security.duo)."""

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from portal import audit, events
from portal.audit import Actor
from portal.crypto import constant_time_equals, decrypt, encrypt, token_hash
from portal.models import Tenant
from security.commands import DuoConfigDelete, DuoConfigSet
from security.errors import (
    DuoConfigInvalid,
    DuoHostRefused,
    DuoNotApproved,
    DuoNotConfigured,
    DuoNotEnabled,
    DuoSecretRequired,
    DuoUnreachable,
    SecondFactorTokenInvalid,
)
from security.models import DuoConfig, DuoEnrollment, DuoState, SecondFactorToken
from security.services.signin import login_second_factor_refused

DUO_STATE_SECONDS = 300


def _duo_config_fields(config: DuoConfig | None) -> dict:
    if config is None:
        return {}
    return {"client_id": config.client_id, "api_host": config.api_host, "enabled": config.enabled}


@transaction.atomic
@events.emits("duo.configured")
def duo_config_set(command: DuoConfigSet, *, tenant: Tenant, actor: Actor) -> DuoConfig:
    """Configure the tenant's Duo application (checked by the Duo client's own rules).
    A `client_secret` of None keeps the stored one, so the secret never has to leave the
    operator who set it to change anything else. Only a Duo API host is accepted: the
    server sends signed requests there (security.duo)."""
    from duo_universal.client import Client, DuoException

    from security import duo

    client_id, client_secret, enabled = command.client_id, command.client_secret, command.enabled
    api_host = command.api_host.strip().lower()
    if not duo.api_host_permitted(api_host):
        raise DuoHostRefused(duo.API_HOST_RULE)
    config = DuoConfig.objects.select_for_update().filter(tenant=tenant).first()
    if client_secret is None:
        if config is None:
            raise DuoSecretRequired()
        client_secret = decrypt(config.client_secret_encrypted)
        secret_changed = False
    else:
        secret_changed = config is None or not constant_time_equals(
            decrypt(config.client_secret_encrypted), client_secret
        )
    try:
        Client(client_id, client_secret, api_host, "https://placeholder.invalid/")
    except DuoException as exc:
        raise DuoConfigInvalid(str(exc)) from None
    before = _duo_config_fields(config)
    config = config or DuoConfig(tenant=tenant)
    config.client_id, config.api_host, config.enabled = client_id, api_host, enabled
    config.client_secret_encrypted = encrypt(client_secret)
    config.save()
    changes = audit.diff(before, _duo_config_fields(config))
    if secret_changed:
        changes["credential_replaced"] = [False, True]
    audit.record(
        tenant=tenant,
        actor=actor,
        action="duo.configured",
        reason=command.reason,
        ticket=command.ticket,
        changes=changes,
    )
    return config


@transaction.atomic
@events.emits("duo.removed")
def duo_config_delete(command: DuoConfigDelete, *, tenant: Tenant, actor: Actor) -> None:
    """Remove the tenant's Duo application: sign-ins stop asking for Duo and prompts
    still open can no longer complete."""
    config = DuoConfig.objects.select_for_update().filter(tenant=tenant).first()
    if config is None:
        raise DuoNotConfigured()
    before = _duo_config_fields(config)
    pending = DuoState.objects.filter(tenant=tenant, used_at__isnull=True).delete()[0]
    config.delete()
    audit.record(
        tenant=tenant,
        actor=actor,
        action="duo.removed",
        reason=command.reason,
        ticket=command.ticket,
        changes={**audit.diff(before, {}), "open_prompts": [pending, 0]},
    )


@events.reads
def duo_required(*, tenant: Tenant) -> bool:
    return DuoConfig.objects.filter(tenant=tenant, enabled=True).exists()


@events.reads
def duo_callback_url(*, tenant: Tenant) -> str:
    from django.conf import settings

    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/identity/v2/auth/login/2fa/duo/callback?apikey={tenant.api_key}"


def _duo_config(tenant: Tenant) -> DuoConfig:
    config = DuoConfig.objects.filter(tenant=tenant, enabled=True).first()
    if config is None:
        raise DuoNotEnabled()
    return config


def _duo_prompt_begin(
    *, tenant: Tenant, subject: Account, redirect_uri: str, **state_fields
) -> str:
    """Check Duo is up, remember a fresh state and return the prompt URL carrying it.
    Network calls go through security.duo (portal.outbound); duo_universal only builds the
    prompt URL."""
    from duo_universal.client import Client, DuoException

    from security import duo

    config = _duo_config(tenant)
    secret = decrypt(config.client_secret_encrypted)
    try:
        duo.health_check(client_id=config.client_id, client_secret=secret, api_host=config.api_host)
        client = Client(
            config.client_id,
            secret,
            config.api_host,
            redirect_uri or duo_callback_url(tenant=tenant),
        )
    except (duo.DuoError, DuoException):
        raise DuoUnreachable() from None
    state = client.generate_state()
    DuoState.objects.create(
        tenant=tenant,
        state_hash=token_hash(state),
        redirect_uri=redirect_uri,
        expires_at=timezone.now() + timedelta(seconds=DUO_STATE_SECONDS),
        **state_fields,
    )
    return client.create_auth_url(subject.uid, state)


@events.flow("duo.enrolled", proof=True)
def duo_prompt_finish(
    *,
    tenant: Tenant,
    state: str,
    duo_code: str,
    purpose: str,
    account: Account | None = None,
    on_refused: Callable[[Account], None] | None = None,
) -> DuoState:
    """Spend the state (once, even when Duo then refuses), exchange Duo's code with the
    redirect address the prompt used, and require Duo's approval. The first approval
    ties the account to Duo. `on_refused(subject)` runs when Duo denied the prompt or its
    code did not exchange (not for an unknown or spent state: no attempt of anyone's)."""
    from security import duo

    rows = DuoState.objects.select_related("login__account", "account").filter(
        tenant=tenant,
        purpose=purpose,
        state_hash=token_hash(state or ""),
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    if account is not None:
        rows = rows.filter(account=account)
    row = rows.first()
    if row is None or not DuoState.objects.filter(pk=row.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    ):
        raise SecondFactorTokenInvalid()
    subject = row.login.account if row.login is not None else row.account
    if subject is None:  # a state names a pending sign-in or an account
        raise SecondFactorTokenInvalid()
    config = _duo_config(tenant)
    try:
        result = duo.exchange_code(
            client_id=config.client_id,
            client_secret=decrypt(config.client_secret_encrypted),
            api_host=config.api_host,
            redirect_uri=row.redirect_uri or duo_callback_url(tenant=tenant),
            code=duo_code or "",
            username=subject.uid,
        )
    except duo.DuoError:
        result = {}
    if (result.get("auth_result") or {}).get("status") != "allow":
        if on_refused is not None:
            on_refused(subject)
        raise DuoNotApproved()
    with transaction.atomic():
        _, created = DuoEnrollment.objects.get_or_create(
            account=subject, defaults={"tenant": tenant, "duo_username": subject.uid}
        )
        if created:
            audit.record(
                tenant=tenant,
                actor=Actor.account(subject.uid),
                action="duo.enrolled",
                subject_uid=subject.uid,
            )
    return row


@events.upkeep
def duo_prompt_start(*, tenant: Tenant, login: SecondFactorToken) -> str:
    """The Duo prompt URL for this pending sign-in (after Duo's health check)."""
    return _duo_prompt_begin(
        tenant=tenant,
        subject=login.account,
        redirect_uri=duo_callback_url(tenant=tenant),
        purpose=DuoState.PURPOSE_LOGIN,
        login=login,
    )


@events.flow("signin.failed", proof=True)
def duo_prompt_complete(*, tenant: Tenant, state: str, duo_code: str) -> SecondFactorToken:
    """Spend the state, exchange Duo's code and return the sign-in it approves. A prompt
    Duo refused is recorded as a sign-in whose second factor failed, once (the state is
    spent)."""
    return duo_prompt_finish(
        tenant=tenant,
        state=state,
        duo_code=duo_code,
        purpose=DuoState.PURPOSE_LOGIN,
        on_refused=lambda subject: login_second_factor_refused(
            tenant=tenant, account=subject, method="duo"
        ),
    ).login


@events.upkeep
def duo_reauth_start(*, tenant: Tenant, account: Account, redirect_uri: str) -> str:
    """The Duo prompt URL with which the account reauthenticates; Duo sends the browser
    back to `redirect_uri` with the `state` and `duo_code` for `reauth_duo`."""
    return _duo_prompt_begin(
        tenant=tenant,
        subject=account,
        redirect_uri=redirect_uri,
        purpose=DuoState.PURPOSE_REAUTH,
        account=account,
    )
