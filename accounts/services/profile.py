"""Writes of the account's profile: reading a ManageRegisterModel body into what to write,
applying it, and the update and UID-change services."""

from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import profile_fields as pf
from accounts.errors import UidTaken
from accounts.models import Account, AccountEmail, ConsentLog, PrivacyPolicyAcceptance
from accounts.services.emails import email_rows_upsert
from accounts.services.shared import (
    MANUAL_LOCK,
    ProfileChanges,
    account_search_text,
    event_record,
    identifiers_check_free,
    integrity_error,
    password_check,
    search_text_refresh,
    snapshot,
)
from portal import audit, context
from portal.audit import Actor
from portal.errors import FieldRequired
from portal.models import Tenant

# ---------------------------------------------------------------- reading a body


def profile_changes_read(data: Any, *, creating: bool, null_support: bool) -> ProfileChanges:
    """Check a ManageRegisterModel body; raise the named error of the first problem."""
    if hasattr(data, "raw"):
        data = data.raw()
    problems = pf.Problems()
    fields = pf.canonicalise(data, problems)
    problems.raise_if_any()
    out = ProfileChanges()
    for name, value in fields.items():
        if value is None:
            if creating or not null_support:
                continue
            _read_null(name, out, problems)
            continue
        _read_value(name, value, out, problems, creating=creating)
    problems.raise_if_any()
    return out


def _read_null(name: str, out: ProfileChanges, problems: pf.Problems) -> None:
    if name == "UserName":
        out.username = (None,)
    elif name == "PhoneId":
        out.phone = (None,)
    elif name in pf.NAME_COLUMNS:
        out.columns[pf.NAME_COLUMNS[name]] = ""
    elif (
        name in pf.PROFILE_STRINGS
        or name in pf.PROFILE_ARRAYS
        or name in pf.PROFILE_FLAGS
        or name in ("Country", "SessionLimit")
    ):
        out.profile_clear.append(name)
    elif name == "CustomFields":
        out.custom_fields_clear = True
    elif name == "RegistrationSource":
        out.columns["registration_source"] = ""
    elif name in ("Email", "Password", "Uid"):
        problems.add(name, f"The {name} field cannot be cleared.")


def _read_value(
    name: str, value: Any, out: ProfileChanges, problems: pf.Problems, *, creating: bool
) -> None:
    if name == "Uid":
        if creating:
            out.uid = pf.clean_uid(value)
    elif name == "UserName":
        username = pf.clean_username(value, problems)
        if username is not None:
            out.username = (username,)
    elif name == "PhoneId":
        out.phone = (pf.clean_phone(value),)
    elif name == "Password":
        if not creating:
            problems.add(
                "Password",
                "The password cannot be changed here; use PUT /identity/v2/manage/account/{uid}/password.",
            )
        else:
            password_check(value)
            out.password = value
    elif name == "Email":
        out.emails = pf.clean_email_items(value, allow_delete=not creating)
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
        items = pf.clean_array(name, value, problems)
        if items is not None:
            out.arrays[name] = items
    elif name in pf.PROFILE_FLAGS or name == "AcceptPrivacyPolicy":
        flag = pf.clean_bool(name, value, problems)
        if flag is not None and name != "AcceptPrivacyPolicy":
            out.profile_set[name] = flag
    elif name in pf.STATE_FLAGS:
        flag = pf.clean_bool(name, value, problems)
        if flag is None:
            return
        if name == "IsDeleted":
            if flag:
                problems.add(
                    "IsDeleted", "Delete an account with DELETE /identity/v2/manage/account/{uid}."
                )
            return
        out.flags[name] = flag
    elif name == "Country":
        country = pf.clean_country(value, problems)
        if country is not None:
            out.profile_set["Country"] = country
    elif name == "CustomFields":
        custom = pf.clean_custom_fields(value, problems)
        if custom is not None:
            out.custom_fields = custom
    elif name == "PrivacyPolicy":
        version = pf.lower_keys(value).get("version") if isinstance(value, dict) else None
        if not isinstance(version, str) or not version.strip() or len(version) > 100:
            problems.add("PrivacyPolicy", "PrivacyPolicy must be an object with a Version.")
        else:
            out.privacy_policy = version.strip()
    elif name == "Consents":
        out.consents = _read_consents(value, problems)
    elif name == "SecurityQuestionAnswer":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            problems.add(
                "SecurityQuestionAnswer", "SecurityQuestionAnswer must map question ids to answers."
            )
    elif name == "PINInfo":
        out.pin = _read_pin(value, problems)
    elif name == "RegistrationSource":
        text = pf.clean_string(name, value, problems, 300)
        if text is not None:
            out.columns["registration_source"] = text
    elif name == "RegistrationProvider":
        text = pf.clean_string(name, value, problems, 40)
        if text is not None and creating:
            out.columns["registration_provider"] = text
    elif name == "SessionLimit":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.add("SessionLimit", "SessionLimit must be a non-negative integer.")
        else:
            out.profile_set["SessionLimit"] = value


def _read_consents(value: Any, problems: pf.Problems) -> dict[str, list] | None:
    """ConsentSubmitModel: `{"Data": [{"ConsentOptionId", "IsAccepted"}], "Events": [{"Event", "IsCustom"}]}`."""
    if not isinstance(value, dict):
        problems.add("Consents", "Consents must be an object with Data and Events.")
        return None
    body = pf.lower_keys(value)
    data, events = body.get("data") or [], body.get("events") or []
    if not isinstance(data, list) or not isinstance(events, list):
        problems.add("Consents", "Consents.Data and Consents.Events must be lists.")
        return None
    consents, versions = [], []
    for item in data:
        item = pf.lower_keys(item)
        consent_id = item.get("consentoptionid") or item.get("consentid")
        if not isinstance(consent_id, str) or not consent_id.strip():
            problems.add("Consents", "Every Consents.Data item needs a ConsentOptionId.")
            return None
        accepted = item.get("isaccepted", True)
        consents.append(
            {
                "ConsentId": consent_id.strip(),
                "Event": "Accepted" if accepted is not False else "Revoked",
            }
        )
    for item in events:
        item = pf.lower_keys(item)
        event = item.get("event")
        if not isinstance(event, str) or not event.strip():
            problems.add("Consents", "Every Consents.Events item needs an Event.")
            return None
        versions.append(
            {
                "Event": event.strip(),
                "Version": str(item.get("version") or "1"),
                "IsCustom": bool(item.get("iscustom", False)),
            }
        )
    return {"consents": consents, "versions": versions}


def _read_pin(value: Any, problems: pf.Problems) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        problems.add("PINInfo", "PINInfo must be an object {PIN, Skipped}.")
        return None
    body = pf.lower_keys(value)
    pin, skipped = body.get("pin"), body.get("skipped", False)
    if pin is not None and (
        not isinstance(pin, str | int) or not str(pin).isdigit() or not 4 <= len(str(pin)) <= 12
    ):
        problems.add("PINInfo", "The PIN must be 4 to 12 digits.")
        return None
    return {"pin": None if pin is None else str(pin), "skipped": bool(skipped)}


# ---------------------------------------------------------------- applying a body


def profile_apply(account: Account, changes: ProfileChanges, *, creating: bool) -> None:
    """Write a read body onto the account, not yet saved: columns, profile, custom fields,
    PIN. On update, arrays merge into the stored ones and custom fields merge by key."""
    profile = dict(account.profile or {})
    for name in changes.profile_clear:
        profile.pop(name, None)
    profile.update(changes.profile_set)
    for name, items in changes.arrays.items():
        profile[name] = (
            pf.strip_ops(items) if creating else pf.merge_array(name, profile.get(name), items)
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


def consents_record(
    *, tenant: Tenant, account: Account, consents: dict, update_type: str, now: datetime
) -> None:
    """Keep the consent history row of a create or update, with the caller's agent and IP."""
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
    )


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


def account_update(
    *,
    tenant: Tenant,
    actor: Actor,
    account: Account,
    changes: Any,
    null_support: bool = False,
    reason: str = "",
    ticket: str = "",
) -> Account:
    """Apply a partial profile. `IsActive:false` blocks (and ends sessions), `IsLoginLocked:false`
    unlocks (and clears the failure counter); nulls clear fields only with `null_support`.
    A SecurityQuestionAnswer is checked with the body but stored by the caller
    (`profile_fields.security_answers`, security.services.security_answers_set)."""
    parsed = profile_changes_read(changes, creating=False, null_support=null_support)
    now = timezone.now()
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        rows = list(AccountEmail.objects.filter(account=account).order_by("id"))
        before = snapshot(account, rows)
        identifiers_check_free(tenant=tenant, account=account, changes=parsed)
        profile_apply(account, parsed, creating=False)
        flags = parsed.flags
        if "IsActive" in flags:
            account.is_active = flags["IsActive"]
        if "IsLoginLocked" in flags:
            if flags["IsLoginLocked"]:
                if not account.is_login_locked:
                    account.is_login_locked, account.login_locked_type = True, MANUAL_LOCK
                    account.login_locked_until = None
            else:
                account.is_login_locked, account.login_locked_type, account.login_locked_until = (
                    False,
                    "",
                    None,
                )
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
        # Blocking ends the sessions and unlocking clears the failure counter through the
        # event (tokens and security subscribe to account.updated).
        event_record(
            tenant=tenant,
            actor=actor,
            action="account.updated",
            account=account,
            before=before,
            after=snapshot(account, rows),
            reason=reason,
            ticket=ticket,
        )
    return account


def account_uid_update(
    *, tenant: Tenant, actor: Actor, account: Account, new_uid_value: Any
) -> Account:
    """Give the account another UID (1200 if malformed, 1044 if taken); everything that hangs
    on the account follows, since other rows reference it by its key, not its UID."""
    if new_uid_value is None or (isinstance(new_uid_value, str) and not new_uid_value.strip()):
        raise FieldRequired("newUid")
    value = pf.clean_uid(new_uid_value.strip() if isinstance(new_uid_value, str) else new_uid_value)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
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
            changes={"Uid": [old, value]},
        )
    return account
