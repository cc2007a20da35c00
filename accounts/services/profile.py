"""Writes of the account's profile: checking a create or update command into what to write,
applying it, and the update and UID-change services."""

from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import profile_fields as pf
from accounts.commands import (
    AccountChanges,
    AccountCreate,
    ConsentChanges,
    PinChange,
    ProfileWrite,
    UidChange,
)
from accounts.errors import UidTaken
from accounts.models import Account, AccountEmail, ConsentLog, PrivacyPolicyAcceptance
from accounts.services.emails import email_rows_upsert
from accounts.services.shared import (
    ProfileChanges,
    account_locked,
    account_search_text,
    event_record,
    identifiers_check_free,
    integrity_error,
    password_check,
    search_text_refresh,
    snapshot,
)
from portal import audit, context, events
from portal.audit import Actor
from portal.errors import FieldRequired
from portal.models import Tenant

# ---------------------------------------------------------------- checking a command

# The account's state flags a command may set (deleting is a service of its own; a sign-in
# lock is security's).
SETTABLE_FLAGS = tuple(f for f in pf.STATE_FLAGS if f not in ("IsDeleted", "IsLoginLocked"))
CLEARABLE_PROFILE = frozenset(
    (*pf.PROFILE_STRINGS, *pf.PROFILE_ARRAYS, *pf.PROFILE_FLAGS, "Country", "SessionLimit")
)


@events.reads
def profile_changes(command: ProfileWrite, *, creating: bool) -> ProfileChanges:
    """Check a create or update command, whoever built it; raise the named error of the
    first problem, or InvalidInput naming every field that is wrong."""
    problems = pf.Problems()
    out = ProfileChanges()
    for name in getattr(command, "cleared", ()):
        _clear(name, out, problems)
    for name, value in command.values.items():
        pf.reject_nul(value, name)
        _set(name, value, out, problems, creating=creating)
    if command.emails:
        out.emails = pf.email_edits_check(command.emails, allow_remove=not creating)
    for name, edits in command.lists.items():
        if name not in pf.PROFILE_ARRAYS:
            problems.add(name, f"The field {name} is not a list field of the profile.")
            continue
        pf.reject_nul([edit.item for edit in edits], name)
        if pf.list_edits_check(name, edits, problems):
            out.arrays[name] = edits
    _custom_fields(command, out, problems, creating=creating)
    version = command.privacy_policy_version
    if version is not None:
        if not isinstance(version, str) or not version.strip() or len(version) > 100:
            problems.add("PrivacyPolicy", "PrivacyPolicy must be an object with a Version.")
        else:
            out.privacy_policy = version.strip()
    if command.consents is not None:
        out.consents = _consents(command.consents, problems)
    if command.pin is not None:
        out.pin = _pin(command.pin, problems)
    if isinstance(command, AccountCreate):
        if command.uid is not None:
            out.uid = pf.clean_uid(command.uid)
        if command.password is not None:
            password_check(command.password)
            out.password = command.password
        if command.registration_provider is not None:
            provider = pf.clean_string(
                "RegistrationProvider", command.registration_provider, problems, 40
            )
            if provider is not None:
                out.columns["registration_provider"] = provider
    problems.raise_if_any()
    return out


def _clear(name: str, out: ProfileChanges, problems: pf.Problems) -> None:
    if name == "UserName":
        out.username = (None,)
    elif name == "PhoneId":
        out.phone = (None,)
    elif name in pf.NAME_COLUMNS:
        out.columns[pf.NAME_COLUMNS[name]] = ""
    elif name in CLEARABLE_PROFILE:
        out.profile_clear.append(name)
    elif name == "CustomFields":
        out.custom_fields_clear = True
    elif name == "RegistrationSource":
        out.columns["registration_source"] = ""
    else:
        problems.add(name, f"The {name} field cannot be cleared.")


def _set(
    name: str, value: Any, out: ProfileChanges, problems: pf.Problems, *, creating: bool
) -> None:
    if name == "UserName":
        username = pf.clean_username(value, problems)
        if username is not None:
            out.username = (username,)
    elif name == "PhoneId":
        out.phone = (pf.clean_phone(value),)
    elif name in pf.NAME_COLUMNS:
        text = pf.clean_string(name, value, problems, pf.NAME_MAX_LENGTH)
        if text is not None:
            out.columns[pf.NAME_COLUMNS[name]] = text
    elif name == "BirthDate":
        out.profile_set[name] = pf.clean_birth_date(value)
    elif name in pf.PROFILE_STRINGS:
        text = pf.clean_string(name, value, problems, pf.PROFILE_STRING_MAX_LENGTH)
        if text is not None:
            out.profile_set[name] = text
    elif name in pf.PROFILE_ARRAYS:
        # A whole list set at once replaces the stored one.
        items = pf.clean_array(name, value, problems)
        if items is not None:
            out.profile_set[name] = items
    elif name in pf.PROFILE_FLAGS or name in SETTABLE_FLAGS:
        flag = pf.clean_bool(name, value, problems)
        if flag is not None:
            (out.profile_set if name in pf.PROFILE_FLAGS else out.flags)[name] = flag
    elif name == "Country":
        country = pf.clean_country(value, problems)
        if country is not None:
            out.profile_set["Country"] = country
    elif name == "RegistrationSource":
        text = pf.clean_string(name, value, problems, 300)
        if text is not None:
            out.columns["registration_source"] = text
    elif name == "SessionLimit":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.add("SessionLimit", "SessionLimit must be a non-negative integer.")
        else:
            out.profile_set["SessionLimit"] = value
    else:
        problems.add(name, f"The field {name} cannot be set here.")


def _custom_fields(
    command: ProfileWrite, out: ProfileChanges, problems: pf.Problems, *, creating: bool
) -> None:
    """Custom fields to set and (on update) to remove, as one merge: a removed key maps to None."""
    removed = tuple(getattr(command, "custom_fields_removed", ()))
    if not command.custom_fields and not removed:
        return
    pf.reject_nul(command.custom_fields, "CustomFields")
    merged = pf.clean_custom_fields(
        {**{key: None for key in removed}, **command.custom_fields}, problems
    )
    if merged is not None:
        out.custom_fields = (
            merged if not creating else {k: v for k, v in merged.items() if v is not None}
        )


def _consents(value: ConsentChanges, problems: pf.Problems) -> dict[str, list] | None:
    if any(not isinstance(c.consent_id, str) or not c.consent_id.strip() for c in value.consents):
        problems.add("Consents", "Every Consents.Data item needs a ConsentOptionId.")
        return None
    if any(not isinstance(e.event, str) or not e.event.strip() for e in value.events):
        problems.add("Consents", "Every Consents.Events item needs an Event.")
        return None
    return {
        "consents": [
            {
                "ConsentId": c.consent_id.strip(),
                "Event": "Accepted" if c.accepted is not False else "Revoked",
            }
            for c in value.consents
        ],
        "versions": [
            {
                "Event": e.event.strip(),
                "Version": str(e.version or "1"),
                "IsCustom": bool(e.is_custom),
            }
            for e in value.events
        ],
    }


def _pin(value: PinChange, problems: pf.Problems) -> dict[str, Any] | None:
    pin = value.pin
    if pin is not None and (
        not isinstance(pin, str) or not pin.isdigit() or not 4 <= len(pin) <= 12
    ):
        problems.add("PINInfo", "The PIN must be 4 to 12 digits.")
        return None
    return {"pin": pin, "skipped": value.skipped}


# ---------------------------------------------------------------- applying a body


@events.step
def profile_apply(account: Account, changes: ProfileChanges, *, creating: bool) -> None:
    """Write a read body onto the account, not yet saved: columns, profile, custom fields,
    PIN. On update, arrays merge into the stored ones and custom fields merge by key."""
    profile = dict(account.profile or {})
    for name in changes.profile_clear:
        profile.pop(name, None)
    profile.update(changes.profile_set)
    for name, items in changes.arrays.items():
        profile[name] = (
            pf.list_items(items) if creating else pf.merge_array(name, profile.get(name), items)
        )
        if not profile[name]:
            profile.pop(name)
    if "Addresses" in profile:
        pf.check_addresses(profile["Addresses"])
    account.profile = profile
    for column, value in changes.columns.items():
        setattr(account, column, value)
    if changes.username is not None:
        account.username = changes.username[0]
    if changes.phone is not None:
        if changes.phone[0] != account.phone_id:
            account.phone_id_verified = False
        account.phone_id = changes.phone[0]
    if changes.custom_fields_clear:
        account.custom_fields = {}
    if changes.custom_fields is not None:
        if creating:
            account.custom_fields = {
                k: v for k, v in changes.custom_fields.items() if v is not None
            }
        else:
            merged = dict(account.custom_fields or {})
            for key, value in changes.custom_fields.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            account.custom_fields = merged
    if "IsEmailSubscribed" in changes.flags:
        account.is_email_subscribed = changes.flags["IsEmailSubscribed"]
    if "PhoneIdVerified" in changes.flags:
        account.phone_id_verified = changes.flags["PhoneIdVerified"] and bool(account.phone_id)
    if changes.pin is not None:
        secrets_ = dict(account.secret_hashes or {})
        if changes.pin["pin"]:
            secrets_["pin"] = make_password(changes.pin["pin"])
        account.secret_hashes = secrets_
        profile["PINInfo"] = {"Skipped": changes.pin["skipped"]}


@events.step
def consents_record(
    *, tenant: Tenant, account: Account, consents: dict, update_type: str, now: datetime
) -> None:
    """Keep the consent history row of a create or update, with the caller's agent, IP and
    host."""
    ctx = context.current()
    ConsentLog.objects.create(
        tenant=tenant,
        account=account,
        update_type=update_type,
        form_versions=consents["versions"],
        consents=consents["consents"],
        logged_at=now,
        user_agent=(ctx.user_agent or "")[:400],
        ip=ctx.ip,
        host=(ctx.host or "")[:200],
    )


@events.step
def privacy_policy_record(*, tenant: Tenant, account: Account, version: str, now: datetime) -> None:
    """Record the acceptance of a new privacy-policy version (the caller saves the profile)."""
    current = (account.profile or {}).get("PrivacyPolicy") or {}
    if current.get("Version") == version:
        return
    PrivacyPolicyAcceptance.objects.create(
        tenant=tenant, account=account, version=version, accept_source="API", accepted_at=now
    )
    account.profile = {
        **(account.profile or {}),
        "PrivacyPolicy": {
            "Version": version,
            "AcceptSource": "API",
            "AcceptDateTime": now.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{now.microsecond // 1000:03d}Z",
        },
    }


# ---------------------------------------------------------------- services


@events.emits("account.updated")
def account_update(
    command: AccountChanges, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Apply a partial update of the profile. `IsActive: false` blocks (and ends sessions).
    Security answers sent with a LoginRadius body are stored by the front door
    (security.services.security_answers_set), and `IsLoginLocked` is set by the front door
    too (security.services.account_lock_set: a lock is security's)."""
    parsed = profile_changes(command, creating=False)
    now = timezone.now()
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        rows = list(AccountEmail.objects.filter(account=account).order_by("id"))
        before = snapshot(account, rows)
        # What the snapshot leaves out, to tell an update that changes nothing.
        before_rows = [(r.pk, r.type, r.value, r.verified) for r in rows]
        before_secrets = dict(account.secret_hashes or {})
        identifiers_check_free(tenant=tenant, account=account, changes=parsed)
        profile_apply(account, parsed, creating=False)
        flags = parsed.flags
        if "IsActive" in flags:
            account.is_active = flags["IsActive"]
        try:
            with transaction.atomic():
                if parsed.emails is not None:
                    rows = email_rows_upsert(
                        tenant=tenant, account=account, items=parsed.emails, rows=rows
                    )
                if "EmailVerified" in flags:
                    account.email_verified = flags["EmailVerified"] and bool(rows)
                    AccountEmail.objects.filter(account=account).update(
                        verified=account.email_verified
                    )
                    for row in rows:
                        row.verified = account.email_verified
                if parsed.privacy_policy:
                    privacy_policy_record(
                        tenant=tenant, account=account, version=parsed.privacy_policy, now=now
                    )
                account.search_text = account_search_text(account, [r.value for r in rows])
                after = snapshot(account, rows)
                # An update that changes nothing (a profile read and sent back) writes
                # nothing and records no event.
                unchanged = (
                    after == before
                    and [(r.pk, r.type, r.value, r.verified) for r in rows] == before_rows
                    and dict(account.secret_hashes or {}) == before_secrets
                    and not parsed.consents
                    and not parsed.privacy_policy  # an acceptance is history even if the same
                )
                if unchanged:
                    return account
                account.save()
        except IntegrityError as exc:
            raise integrity_error(exc) from exc
        if parsed.consents:
            consents_record(
                tenant=tenant,
                account=account,
                consents=parsed.consents,
                update_type="Update",
                now=now,
            )
        # Blocking ends the sessions through the event (tokens subscribes to account.updated).
        event_record(
            tenant=tenant,
            actor=actor,
            action="account.updated",
            account=account,
            before=before,
            after=after,
            reason=command.reason,
            ticket=command.ticket,
        )
    return account


@events.emits("account.uid_changed")
def account_uid_update(
    command: UidChange, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Give the account another UID (1200 if malformed, 1044 if taken); everything that hangs
    on the account follows, since other rows reference it by its key, not its UID."""
    if not isinstance(command.new_uid, str) or not command.new_uid.strip():
        raise FieldRequired("newUid")
    value = pf.clean_uid(command.new_uid.strip())
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        old = account.uid
        if value == old:
            return account
        if Account.objects.filter(tenant=tenant, uid=value).exists():
            raise UidTaken()
        previous = list((account.profile or {}).get("PreviousUids") or [])
        account.profile = {**(account.profile or {}), "PreviousUids": [*previous, old]}
        account.uid = value
        account.is_custom_uid = True
        try:
            with transaction.atomic():
                account.save(update_fields=["uid", "is_custom_uid", "profile", "modified"])
        except IntegrityError as exc:
            raise integrity_error(exc) from exc
        search_text_refresh(account=account)
        audit.record(
            tenant=tenant,
            actor=actor,
            action="account.uid_changed",
            subject_uid=value,
            reason=command.reason,
            ticket=command.ticket,
            changes={"Uid": [old, value]},
        )
    return account
