"""Passkeys (WebAuthn): registration, authentication, sign-in and removal."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from portal import audit, events
from portal.audit import Actor
from portal.models import Tenant
from security.commands import PasskeyRemove
from security.errors import (
    AccountBlocked,
    AccountLocked,
    PasskeyAlreadyRegistered,
    PasskeyInvalid,
    PasskeyNotFound,
    PasskeyNotVerified,
)
from security.models import PasskeyChallenge, PasskeyCredential
from security.services.factors import factor_notice_send
from security.services.lockout import login_failures_clear
from security.services.signin import login_lock_active

PASSKEY_CHALLENGE_SECONDS = 300


@events.reads
def passkey_relying_party() -> tuple[str, str]:
    """(RP ID, origin) from PUBLIC_BASE_URL: the host the browser sees."""
    from urllib.parse import urlsplit

    from django.conf import settings

    parts = urlsplit(settings.PUBLIC_BASE_URL)
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def _passkey_challenge_new(
    *, tenant: Tenant, account: Account, purpose: str, identifier: str = ""
) -> bytes:
    from webauthn.helpers import bytes_to_base64url, generate_challenge

    challenge = generate_challenge()
    PasskeyChallenge.objects.create(
        tenant=tenant,
        account=account,
        purpose=purpose,
        challenge=bytes_to_base64url(challenge),
        identifier=identifier,
        expires_at=timezone.now() + timedelta(seconds=PASSKEY_CHALLENGE_SECONDS),
    )
    return challenge


def _passkey_challenge_take(
    *, account: Account, purpose: str, credential: dict
) -> PasskeyChallenge:
    """Spend the challenge the client signed; a challenge works for one ceremony only."""
    import json

    from webauthn.helpers import base64url_to_bytes

    try:
        client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        challenge = str(client_data["challenge"])
    except (KeyError, TypeError, ValueError):
        raise PasskeyInvalid("The credential is malformed.") from None
    row = PasskeyChallenge.objects.filter(
        account=account,
        purpose=purpose,
        challenge=challenge,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()
    if row is None or not PasskeyChallenge.objects.filter(pk=row.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    ):
        raise PasskeyInvalid("The challenge is unknown, used or expired.")
    return row


@events.upkeep
def passkey_registration_begin(*, tenant: Tenant, account: Account, identifier: str = "") -> dict:
    """Creation options for a new passkey of the account (excluding the ones it has)."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
    )

    rp_id, _ = passkey_relying_party()
    challenge = _passkey_challenge_new(
        tenant=tenant,
        account=account,
        purpose=PasskeyChallenge.PURPOSE_REGISTER,
        identifier=identifier,
    )
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=tenant.name,
        user_id=account.uid.encode(),
        user_name=identifier or account.uid,
        challenge=challenge,
        timeout=PASSKEY_CHALLENGE_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(c))
            for c in PasskeyCredential.objects.filter(account=account).values_list(
                "credential_id", flat=True
            )
        ],
    )
    import json

    return json.loads(options_to_json(options))


@events.emits("passkey.registered", proof=True)
def passkey_register(
    *, tenant: Tenant, actor: Actor, account: Account, credential: dict
) -> PasskeyCredential:
    """Verify an attestation against the challenge handed out and keep the credential.
    A credential id already registered in the tenant is refused."""
    from webauthn import verify_registration_response
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
    from webauthn.helpers.exceptions import WebAuthnException

    rp_id, origin = passkey_relying_party()
    with transaction.atomic():
        challenge = _passkey_challenge_take(
            account=account, purpose=PasskeyChallenge.PURPOSE_REGISTER, credential=credential
        )
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge.challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError) as exc:
        raise PasskeyInvalid(f"The attestation is not valid: {exc}") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    try:
        with transaction.atomic():
            row = PasskeyCredential.objects.create(
                tenant=tenant,
                account=account,
                credential_id=credential_id,
                public_key=bytes_to_base64url(verified.credential_public_key),
                sign_count=verified.sign_count,
                aaguid=verified.aaguid,
                authenticator=verified.aaguid if verified.aaguid.strip("0-") else "Passkey",
                identifier=challenge.identifier or account.uid,
            )
            audit.record(
                tenant=tenant,
                actor=actor,
                action="passkey.registered",
                subject_uid=account.uid,
                changes={"passkey": [None, row.pk], "aaguid": [None, verified.aaguid]},
            )
            factor_notice_send(tenant=tenant, account=account, factor="passkey")
    except IntegrityError:
        raise PasskeyAlreadyRegistered() from None
    return row


@events.upkeep
def passkey_authentication_begin(*, tenant: Tenant, account: Account) -> dict:
    import json

    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

    rp_id, _ = passkey_relying_party()
    challenge = _passkey_challenge_new(
        tenant=tenant, account=account, purpose=PasskeyChallenge.PURPOSE_LOGIN
    )
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        timeout=PASSKEY_CHALLENGE_SECONDS * 1000,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(c))
            for c in PasskeyCredential.objects.filter(account=account).values_list(
                "credential_id", flat=True
            )
        ],
    )
    return json.loads(options_to_json(options))


@events.upkeep
def passkey_authenticate(*, account: Account, credential: dict) -> PasskeyCredential:
    """Verify an assertion of one of the account's passkeys; the sign count must grow (when
    the authenticator counts) and is stored under a row lock, so a cloned key is caught."""
    from webauthn import verify_authentication_response
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.exceptions import WebAuthnException

    rp_id, origin = passkey_relying_party()
    with transaction.atomic():
        challenge = _passkey_challenge_take(
            account=account, purpose=PasskeyChallenge.PURPOSE_LOGIN, credential=credential
        )
    credential_id = credential.get("id") if isinstance(credential, dict) else None
    with transaction.atomic():
        row = (
            PasskeyCredential.objects.select_for_update()
            .filter(account=account, credential_id=credential_id)
            .first()
        )
        if row is None:
            raise PasskeyInvalid("This passkey is not registered for the account.")
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=base64url_to_bytes(challenge.challenge),
                expected_rp_id=rp_id,
                expected_origin=origin,
                credential_public_key=base64url_to_bytes(row.public_key),
                credential_current_sign_count=row.sign_count,
            )
        except (WebAuthnException, KeyError, TypeError, ValueError) as exc:
            raise PasskeyInvalid(f"The assertion is not valid: {exc}") from None
        PasskeyCredential.objects.filter(pk=row.pk).update(sign_count=verified.new_sign_count)
        row.sign_count = verified.new_sign_count
    return row


@transaction.atomic
@events.emits("passkey.deleted")
def passkey_delete(
    command: PasskeyRemove, *, tenant: Tenant, actor: Actor, account: Account
) -> None:
    """Remove one passkey (its `Id` in the list is the credential id)."""
    reason, ticket = command.reason, command.ticket
    row = PasskeyCredential.objects.filter(
        account=account, credential_id=command.passkey_id
    ).first()
    if row is None:
        raise PasskeyNotFound()
    row.delete()
    audit.record(
        tenant=tenant,
        actor=actor,
        action="passkey.deleted",
        subject_uid=account.uid,
        reason=reason,
        ticket=ticket,
        changes={"passkey": [row.credential_id[:16], None]},
    )


@events.reads
def passkey_decoy_options() -> dict:
    """Request options for an identifier that names no account: they look like real ones."""
    import json

    from webauthn import generate_authentication_options, options_to_json

    rp_id, _ = passkey_relying_party()
    return json.loads(
        options_to_json(
            generate_authentication_options(rp_id=rp_id, timeout=PASSKEY_CHALLENGE_SECONDS * 1000)
        )
    )


@events.flow(proof=True)
def passkey_login(
    *, tenant: Tenant, identifier: str, account: Account | None, credential: dict
) -> PasskeyCredential:
    """A passkey sign-in for the account `identifier` names (None: it names none).

    Attempts are counted per identifier, known or not (the tenant's
    `rate_limit_passkey_login` in the sensitive-operation window; beyond it 429). An unknown
    identifier and every failed verification of a known one (malformed credential, unknown
    or spent challenge, foreign key, bad signature) get the same answer, so the answer does
    not tell whether the identifier exists. A locked or blocked account is refused after
    verification."""
    from portal import ratelimit

    ratelimit.rate_limit_hit(
        tenant=tenant,
        scope="op:passkey_login",
        key=identifier.strip().lower(),
        limit=int(tenant.setting("rate_limit_passkey_login")),
        window_seconds=int(tenant.setting("rate_limit_sensitive_window_seconds")),
    )
    if account is None:
        raise PasskeyNotVerified()
    try:
        row = passkey_authenticate(account=account, credential=credential)
    except PasskeyInvalid:
        raise PasskeyNotVerified() from None
    account.refresh_from_db()
    if login_lock_active(account=account):
        raise AccountLocked()
    if not account.is_active:
        raise AccountBlocked()
    login_failures_clear(account=account)
    return row
