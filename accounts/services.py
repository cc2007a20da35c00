"""Every write to an account: one function per operation, each in one transaction with its
audit event. The API views and the console call these and nothing else.

Duplicate emails, usernames, phones, UIDs and provider identities are refused by database
constraints; a pre-check gives the usual answer and the constraint settles races (the
loser's IntegrityError is mapped to the same LoginRadius code).
"""

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import profile_fields as pf
from accounts.models import (
    Account,
    AccountEmail,
    AccountIdentity,
    AccountIdentityEmail,
    ConsentLog,
    PrivacyPolicyAcceptance,
    new_uid,
)
from portal import audit, context
from portal.audit import Actor
from portal.lrapi.errors import LRError, required
from portal.models import Tenant

PASSWORD_MAX_LENGTH = 256
MANUAL_LOCK = "ManualLock"


# ---------------------------------------------------------------- helpers


def _integrity_error(exc: IntegrityError) -> LRError:
    """The LoginRadius code for the unique constraint that refused a write."""
    text = str(exc).lower()
    if "account_email_unique_per_tenant" in text or "accounts_accountemail" in text:
        return LRError(936)
    if "account_username_unique_per_tenant" in text or "username" in text:
        return LRError(1017)
    if "account_phone_unique_per_tenant" in text or "phone_id" in text:
        return LRError(1058)
    if "account_identity_unique_per_tenant" in text or "accounts_accountidentity" in text:
        return _identity_taken()
    if "account_uid_unique_per_tenant" in text or ".uid" in text:
        return LRError(1044)
    raise exc


def _identity_taken() -> LRError:
    return LRError(
        1134,
        errors=[{"FieldName": "ProviderId", "ErrorMessage": "This provider identity is already linked to another account."}],
    )


def _password_errors(password: Any) -> LRError | None:
    if not isinstance(password, str) or not password:
        return LRError(1134, errors=[{"FieldName": "Password", "ErrorMessage": "The Password field is required."}])
    if len(password) > PASSWORD_MAX_LENGTH:
        return LRError(
            1134, errors=[{"FieldName": "Password", "ErrorMessage": f"The password may be at most {PASSWORD_MAX_LENGTH} characters."}]
        )
    try:
        validate_password(password)
    except ValidationError as exc:
        return LRError(1134, errors=[{"FieldName": "Password", "ErrorMessage": m} for m in exc.messages])
    return None


def _email_values(account: Account) -> list[str]:
    return list(AccountEmail.objects.filter(account=account).order_by("id").values_list("value", flat=True))


def _search_text(account: Account, emails: list[str]) -> str:
    names = " ".join(p for p in (account.first_name, account.middle_name, account.last_name) if p)
    parts = [account.uid, account.username or "", account.phone_id or "", names, *emails]
    return "|".join(p for p in parts if p).lower()


def search_text_refresh(*, account: Account, emails: list[str] | None = None) -> None:
    """Recompute the derived search column (names, identifiers, emails). Every service here
    keeps it current; accounts written another way (fixtures, imports) call this."""
    account.search_text = _search_text(account, _email_values(account) if emails is None else emails)
    Account.objects.filter(pk=account.pk).update(search_text=account.search_text)


def _refresh_search_text(account: Account, emails: list[str] | None = None) -> None:
    search_text_refresh(account=account, emails=emails)


def snapshot(account: Account, emails: list[AccountEmail] | None = None) -> dict[str, Any]:
    """The audited view of an account: identifiers, names, flags and profile, never secrets."""
    rows = list(AccountEmail.objects.filter(account=account).order_by("id")) if emails is None else emails
    data: dict[str, Any] = {
        "Uid": account.uid,
        "UserName": account.username,
        "PhoneId": account.phone_id,
        "PhoneIdVerified": account.phone_id_verified,
        "EmailVerified": account.email_verified,
        "Email": [f"{e.type}:{e.value}" for e in rows],
        "FirstName": account.first_name,
        "MiddleName": account.middle_name,
        "LastName": account.last_name,
        "IsActive": account.is_active,
        "IsLoginLocked": account.is_login_locked,
        "LoginLockedType": account.login_locked_type,
        "IsEmailSubscribed": account.is_email_subscribed,
        "CustomFields": dict(account.custom_fields or {}),
        "RegistrationSource": account.registration_source,
    }
    for key, value in (account.profile or {}).items():
        data.setdefault(key, value)
    return data


def _record(*, tenant, actor, action, account, before=None, after=None, reason="", ticket="", changes=None):
    if changes is None and before is not None and after is not None:
        changes = audit.diff(before, after)
    audit.record(
        tenant=tenant, actor=actor, action=action, subject_uid=account.uid,
        reason=reason, ticket=ticket, changes=changes or {},
    )


def _revoke_sessions(*, tenant, actor, account, reason) -> int:
    from tokens.services.sessions import account_sessions_revoke

    return account_sessions_revoke(tenant=tenant, account=account, actor=actor, reason=reason)


# ---------------------------------------------------------------- body reading


class _Changes:
    """A create/update body read into what to write."""

    def __init__(self) -> None:
        self.uid: str | None = None
        self.username: tuple[str | None] | None = None  # (value,) when given; value None clears
        self.phone: tuple[str | None] | None = None
        self.password: str | None = None
        self.emails: list[dict[str, Any]] | None = None
        self.columns: dict[str, Any] = {}
        self.profile_set: dict[str, Any] = {}
        self.profile_clear: list[str] = []
        self.arrays: dict[str, list] = {}
        self.custom_fields: dict[str, Any] | None = None
        self.custom_fields_clear = False
        self.flags: dict[str, bool] = {}
        self.privacy_policy: str | None = None
        self.consents: Any = None
        self.security_answers: dict[str, str] | None = None
        self.pin: dict[str, Any] | None = None


def _read_body(data: Any, *, creating: bool, null_support: bool) -> _Changes:
    """Check a ManageRegisterModel body; raise the LoginRadius error of the first problem."""
    if hasattr(data, "raw"):
        data = data.raw()
    problems = pf.Problems()
    fields = pf.canonicalise(data, problems)
    problems.raise_if_any()
    out = _Changes()
    for name, value in fields.items():
        if value is None:
            if creating or not null_support:
                continue
            _read_null(name, out, problems)
            continue
        _read_value(name, value, out, problems, creating=creating)
    problems.raise_if_any()
    return out


def _read_null(name: str, out: _Changes, problems: pf.Problems) -> None:
    if name == "UserName":
        out.username = (None,)
    elif name == "PhoneId":
        out.phone = (None,)
    elif name in pf.NAME_COLUMNS:
        out.columns[pf.NAME_COLUMNS[name]] = ""
    elif name in pf.PROFILE_STRINGS or name in pf.PROFILE_ARRAYS or name in pf.PROFILE_FLAGS or name in ("Country", "SessionLimit"):
        out.profile_clear.append(name)
    elif name == "CustomFields":
        out.custom_fields_clear = True
    elif name == "RegistrationSource":
        out.columns["registration_source"] = ""
    elif name in ("Email", "Password", "Uid"):
        problems.add(name, f"The {name} field cannot be cleared.")


def _read_value(name: str, value: Any, out: _Changes, problems: pf.Problems, *, creating: bool) -> None:
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
            problems.add("Password", "The password cannot be changed here; use PUT /identity/v2/manage/account/{uid}/password.")
        else:
            error = _password_errors(value)
            if error:
                raise error
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
                problems.add("IsDeleted", "Delete an account with DELETE /identity/v2/manage/account/{uid}.")
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
            problems.add("SecurityQuestionAnswer", "SecurityQuestionAnswer must map question ids to answers.")
        else:
            out.security_answers = dict(value)
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
        consents.append({"ConsentId": consent_id.strip(), "Event": "Accepted" if accepted is not False else "Revoked"})
    for item in events:
        item = pf.lower_keys(item)
        event = item.get("event")
        if not isinstance(event, str) or not event.strip():
            problems.add("Consents", "Every Consents.Events item needs an Event.")
            return None
        versions.append(
            {"Event": event.strip(), "Version": str(item.get("version") or "1"), "IsCustom": bool(item.get("iscustom", False))}
        )
    return {"consents": consents, "versions": versions}


def _read_pin(value: Any, problems: pf.Problems) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        problems.add("PINInfo", "PINInfo must be an object {PIN, Skipped}.")
        return None
    body = pf.lower_keys(value)
    pin, skipped = body.get("pin"), body.get("skipped", False)
    if pin is not None and (not isinstance(pin, str | int) or not str(pin).isdigit() or not 4 <= len(str(pin)) <= 12):
        problems.add("PINInfo", "The PIN must be 4 to 12 digits.")
        return None
    return {"pin": None if pin is None else str(pin), "skipped": bool(skipped)}


# ---------------------------------------------------------------- applying a body


def _check_free(*, tenant: Tenant, account: Account | None, changes: _Changes) -> None:
    """The usual answers for identifiers already in use (the constraints settle races)."""
    others = Account.objects.filter(tenant=tenant)
    if account is not None:
        others = others.exclude(pk=account.pk)
    if changes.uid and Account.objects.filter(tenant=tenant, uid=changes.uid).exists():
        raise LRError(1044)
    if changes.emails:
        values = [e["Value"].lower() for e in changes.emails if e.get("op") != "delete"]
        taken = AccountEmail.objects.annotate(v=Lower("value")).filter(tenant=tenant, v__in=values)
        if account is not None:
            taken = taken.exclude(account=account)
        if taken.exists():
            raise LRError(936)
    username = changes.username[0] if changes.username else None
    if username and others.annotate(u=Lower("username")).filter(u=username.lower()).exists():
        raise LRError(1017)
    if changes.phone and changes.phone[0] and others.filter(phone_id=changes.phone[0]).exists():
        raise LRError(1058)


def _apply_profile(account: Account, changes: _Changes, *, creating: bool) -> None:
    profile = dict(account.profile or {})
    for name in changes.profile_clear:
        profile.pop(name, None)
    profile.update(changes.profile_set)
    for name, items in changes.arrays.items():
        profile[name] = pf.strip_ops(items) if creating else pf.merge_array(name, profile.get(name), items)
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
            account.custom_fields = {k: v for k, v in changes.custom_fields.items() if v is not None}
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


def _recovery_hold_end(tenant: Tenant) -> datetime:
    hours = max(float(tenant.setting("new_email_recovery_hold_hours") or 0), 0.0)
    return timezone.now() + timedelta(hours=hours)


def _email_added_notice(*, tenant: Tenant, account: Account, before: list[tuple[str, str]],
                        after: list[AccountEmail]) -> None:
    """Tell the account's primary address (as it was before the change) that another address
    was added, through the outbox in the caller's transaction. The notice names the new
    address only partly."""
    from tokens.services.multipurpose import message_enqueue

    old_values = {value.lower() for _, value in before}
    added = [r.value for r in after if r.value.lower() not in old_values]
    primary = next((value for kind, value in before if kind.lower() == "primary"), before[0][1] if before else None)
    if not added or primary is None:
        return
    masked = ", ".join(_masked_email(v) for v in added)
    context = {
        "subject": f"An email address was added to your {tenant.name} account",
        "body": f"The address {masked} was added to your {tenant.name} account. If this was not you, "
                "secure your account now: it cannot be used to reset your password for "
                f"{tenant.setting('new_email_recovery_hold_hours')} hours.",
        "application": tenant.name, "added": masked,
        "hold_hours": tenant.setting("new_email_recovery_hold_hours"),
    }
    try:
        with transaction.atomic():
            message_enqueue(tenant=tenant, account=account, channel="email", template="emailadded",
                            recipient=primary, context=context, check_limits=False)
    except LRError:  # the tenant's daily cap is spent: the change still stands
        pass


def _masked_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:2]}***@{domain}"


def email_recovery_check(*, account: Account, email: str) -> None:
    """Refuse (1134) a forgot-password token for an address added too recently."""
    row = AccountEmail.objects.filter(account=account, value__iexact=email).first()
    if row is not None and row.recovery_after is not None and row.recovery_after > timezone.now():
        raise LRError(1134, errors=[{
            "Field": "Email",
            "Message": "This email address was added to the account recently and cannot be used to "
                       f"reset the password before {row.recovery_after:%Y-%m-%d %H:%M} UTC.",
        }])


def _upsert_email_rows(*, tenant: Tenant, account: Account, items: list[dict[str, Any]], rows: list[AccountEmail]) -> list[AccountEmail]:
    """Apply Email items to the account's rows: same Type = new value, new Type = appended,
    `op:delete` = removed. Returns the rows afterwards; refuses to leave none (1005)."""
    by_type = {r.type.lower(): r for r in rows}
    by_value = {r.value.lower(): r for r in rows}
    had_any = bool(rows)
    for item in items:
        value = item["Value"]
        if item.get("op") == "delete":
            row = by_value.pop(value.lower(), None)
            if row is not None:
                by_type.pop(row.type.lower(), None)
                row.delete()
            continue
        same_value = by_value.get(value.lower())
        row = by_type.get(item["Type"].lower())
        if same_value is not None and same_value is not row:
            raise LRError(1202)
        if row is None:
            row = AccountEmail.objects.create(
                tenant=tenant, account=account, type=item["Type"], value=value,
                recovery_after=_recovery_hold_end(tenant) if had_any else None,
            )
            by_type[row.type.lower()] = row
            by_value[value.lower()] = row
        elif row.value != value:
            by_value.pop(row.value.lower(), None)
            if row.value.lower() != value.lower():
                row.verified = False  # another address; a new spelling of the same one stays verified
                row.recovery_after = _recovery_hold_end(tenant)
            row.value = value
            row.save(update_fields=["value", "verified", "recovery_after"])
            by_value[value.lower()] = row
    result = sorted(by_type.values(), key=lambda r: r.pk)
    if had_any and not result:
        raise LRError(1005)
    return result


def _record_consents(*, tenant: Tenant, account: Account, consents: dict, update_type: str, now: datetime) -> None:
    ctx = context.current()
    ConsentLog.objects.create(
        tenant=tenant, account=account, update_type=update_type, form_versions=consents["versions"],
        consents=consents["consents"], logged_at=now, user_agent=(ctx.user_agent or "")[:400], ip=ctx.ip,
    )


def _record_privacy_policy(*, tenant: Tenant, account: Account, version: str, now: datetime) -> None:
    current = (account.profile or {}).get("PrivacyPolicy") or {}
    if current.get("Version") == version:
        return
    PrivacyPolicyAcceptance.objects.create(tenant=tenant, account=account, version=version, accept_source="API", accepted_at=now)
    account.profile = {
        **(account.profile or {}),
        "PrivacyPolicy": {
            "Version": version, "AcceptSource": "API",
            "AcceptDateTime": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        },
    }


# ---------------------------------------------------------------- create / update


def account_create(*, tenant: Tenant, actor: Actor, data: Any) -> Account:
    """Create an account from a ManageRegisterModel body, without the verification flow
    (a back end vouches for it). Needs an email, a phone id or a username."""
    changes = _read_body(data, creating=True, null_support=False)
    if not changes.emails and not (changes.phone and changes.phone[0]) and not (changes.username and changes.username[0]):
        raise required("Email")
    now = timezone.now()
    with transaction.atomic():
        _check_free(tenant=tenant, account=None, changes=changes)
        account = Account(tenant=tenant, uid=changes.uid or new_uid(), is_custom_uid=bool(changes.uid))
        _apply_profile(account, changes, creating=True)
        flags = changes.flags
        account.email_verified = bool(flags.get("EmailVerified", False)) and bool(changes.emails)
        account.is_active = flags.get("IsActive", True)
        if flags.get("IsLoginLocked"):
            account.is_login_locked, account.login_locked_type = True, MANUAL_LOCK
        if changes.password:
            account.password = make_password(changes.password)
            account.last_password_change_date = now
        emails = changes.emails or []
        account.search_text = _search_text(account, [e["Value"] for e in emails])
        try:
            with transaction.atomic():
                account.save()
                rows = [
                    AccountEmail.objects.create(
                        tenant=tenant, account=account, type=e["Type"], value=e["Value"], verified=account.email_verified
                    )
                    for e in emails
                ]
        except IntegrityError as exc:
            raise _integrity_error(exc) from exc
        if changes.privacy_policy:
            _record_privacy_policy(tenant=tenant, account=account, version=changes.privacy_policy, now=now)
            account.save(update_fields=["profile"])
        if changes.consents:
            _record_consents(tenant=tenant, account=account, consents=changes.consents, update_type="Register", now=now)
        if changes.security_answers:
            from security.services import security_answers_set

            security_answers_set(tenant=tenant, actor=actor, account=account, answers=changes.security_answers)
        _record(
            tenant=tenant, actor=actor, action="account.created", account=account,
            changes=audit.diff({}, snapshot(account, rows)),
        )
    return account


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
    unlocks (and clears the failure counter); nulls clear fields only with `null_support`."""
    parsed = _read_body(changes, creating=False, null_support=null_support)
    now = timezone.now()
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        rows = list(AccountEmail.objects.filter(account=account).order_by("id"))
        before = snapshot(account, rows)
        _check_free(tenant=tenant, account=account, changes=parsed)
        _apply_profile(account, parsed, creating=False)
        flags = parsed.flags
        blocking = flags.get("IsActive") is False and account.is_active
        unlocking = flags.get("IsLoginLocked") is False and account.is_login_locked
        if "IsActive" in flags:
            account.is_active = flags["IsActive"]
        if "IsLoginLocked" in flags:
            if flags["IsLoginLocked"]:
                if not account.is_login_locked:
                    account.is_login_locked, account.login_locked_type = True, MANUAL_LOCK
                    account.login_locked_until = None
            else:
                account.is_login_locked, account.login_locked_type, account.login_locked_until = False, "", None
        try:
            with transaction.atomic():
                if parsed.emails is not None:
                    earlier = [(r.type, r.value) for r in rows]  # rows change in place
                    rows = _upsert_email_rows(tenant=tenant, account=account, items=parsed.emails, rows=rows)
                    _email_added_notice(tenant=tenant, account=account, before=earlier, after=rows)
                if "EmailVerified" in flags:
                    account.email_verified = flags["EmailVerified"] and bool(rows)
                    AccountEmail.objects.filter(account=account).update(verified=account.email_verified)
                    for row in rows:
                        row.verified = account.email_verified
                if parsed.privacy_policy:
                    _record_privacy_policy(tenant=tenant, account=account, version=parsed.privacy_policy, now=now)
                account.search_text = _search_text(account, [r.value for r in rows])
                account.save()
        except IntegrityError as exc:
            raise _integrity_error(exc) from exc
        if parsed.consents:
            _record_consents(tenant=tenant, account=account, consents=parsed.consents, update_type="Update", now=now)
        if parsed.security_answers:
            from security.services import security_answers_set

            security_answers_set(tenant=tenant, actor=actor, account=account, answers=parsed.security_answers)
        if blocking:
            _revoke_sessions(tenant=tenant, actor=actor, account=account, reason=reason or "account blocked")
        if unlocking:
            from security.services import login_failures_clear

            login_failures_clear(account=account)
        _record(
            tenant=tenant, actor=actor, action="account.updated", account=account,
            before=before, after=snapshot(account, rows), reason=reason, ticket=ticket,
        )
    return account


# ---------------------------------------------------------------- block / lock


def account_block(*, tenant: Tenant, actor: Actor, account: Account, reason: str = "", ticket: str = "") -> Account:
    """Stop every sign-in: the account is inactive and its sessions end now."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        was = account.is_active
        account.is_active = False
        account.save(update_fields=["is_active", "modified"])
        _revoke_sessions(tenant=tenant, actor=actor, account=account, reason=reason or "account blocked")
        _record(tenant=tenant, actor=actor, action="account.blocked", account=account, reason=reason, ticket=ticket,
                changes={"IsActive": [was, False]} if was else {})
    return account


def account_unblock(*, tenant: Tenant, actor: Actor, account: Account, reason: str = "", ticket: str = "") -> Account:
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        was = account.is_active
        account.is_active = True
        account.save(update_fields=["is_active", "modified"])
        _record(tenant=tenant, actor=actor, action="account.unblocked", account=account, reason=reason, ticket=ticket,
                changes={"IsActive": [was, True]} if not was else {})
    return account


def account_lock(
    *, tenant: Tenant, actor: Actor, account: Account, locked_type: str, until: datetime | None = None, reason: str = ""
) -> Account:
    """Lock sign-in (too many failures, or by hand) until `until` (None: until unlocked)."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        before = {"IsLoginLocked": account.is_login_locked, "LoginLockedType": account.login_locked_type,
                  "LoginLockedUntil": account.login_locked_until.isoformat() if account.login_locked_until else None}
        account.is_login_locked = True
        account.login_locked_type = (locked_type or MANUAL_LOCK)[:40]
        account.login_locked_until = until
        account.save(update_fields=["is_login_locked", "login_locked_type", "login_locked_until", "modified"])
        after = {"IsLoginLocked": True, "LoginLockedType": account.login_locked_type,
                 "LoginLockedUntil": until.isoformat() if until else None}
        _record(tenant=tenant, actor=actor, action="account.locked", account=account, before=before, after=after, reason=reason)
    return account


def account_unlock(*, tenant: Tenant, actor: Actor, account: Account, reason: str = "", ticket: str = "") -> Account:
    """Let the account sign in again now: clear the lock and the failure counter."""
    from security.services import login_failures_clear

    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        before = {"IsLoginLocked": account.is_login_locked, "LoginLockedType": account.login_locked_type}
        account.is_login_locked, account.login_locked_type, account.login_locked_until = False, "", None
        account.save(update_fields=["is_login_locked", "login_locked_type", "login_locked_until", "modified"])
        login_failures_clear(account=account)
        _record(tenant=tenant, actor=actor, action="account.unlocked", account=account, reason=reason, ticket=ticket,
                before=before, after={"IsLoginLocked": False, "LoginLockedType": ""})
    return account


# ---------------------------------------------------------------- delete


def account_delete(*, tenant: Tenant, actor: Actor, account: Account, reason: str = "", ticket: str = "") -> None:
    """Delete the account and everything hanging on it (sessions end first; other sections'
    rows go by cascade). The audit keeps a tombstone: who, when, which UID; no profile data."""
    with transaction.atomic():
        uid = account.uid
        _revoke_sessions(tenant=tenant, actor=actor, account=account, reason=reason or "account deleted")
        Account.objects.filter(pk=account.pk, tenant=tenant).delete()
        audit.record(tenant=tenant, actor=actor, action="account.deleted", subject_uid=uid, reason=reason, ticket=ticket)


def accounts_delete_by_email(*, tenant: Tenant, actor: Actor, email: str, reason: str = "") -> int:
    """Delete every account that uses `email` (its own or a linked identity's); 938 if none."""
    from accounts.selectors import accounts_by_email

    with transaction.atomic():
        accounts = accounts_by_email(tenant=tenant, email=email)
        if not accounts:
            raise LRError(938)
        for account in accounts:
            account_delete(tenant=tenant, actor=actor, account=account, reason=reason)
    return len(accounts)


# ---------------------------------------------------------------- emails


def account_email_upsert(
    *, tenant: Tenant, actor: Actor, account: Account, emails: Any, reason: str = "", ticket: str = ""
) -> Account:
    """Add or change emails by Type: an existing Type gets the new value (unverified), a new
    Type is appended."""
    items = pf.clean_email_items(emails, allow_delete=False)
    if not items:
        raise required("Email")
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        rows = list(AccountEmail.objects.filter(account=account).order_by("id"))
        before = [f"{r.type}:{r.value}" for r in rows]
        changes = _Changes()
        changes.emails = items
        _check_free(tenant=tenant, account=account, changes=changes)
        try:
            with transaction.atomic():
                earlier = [(r.type, r.value) for r in rows]  # rows change in place
                rows = _upsert_email_rows(tenant=tenant, account=account, items=items, rows=rows)
        except IntegrityError as exc:
            raise _integrity_error(exc) from exc
        _email_added_notice(tenant=tenant, account=account, before=earlier, after=rows)
        _refresh_search_text(account, [r.value for r in rows])
        Account.objects.filter(pk=account.pk).update(modified=timezone.now())
        _record(tenant=tenant, actor=actor, action="account_email.upserted", account=account,
                reason=reason, ticket=ticket,
                changes={"Email": [before, [f"{r.type}:{r.value}" for r in rows]]})
    return account


def _email_argument(email: Any) -> str:
    """The email a call names, cleaned; 908-style "required" when absent or blank."""
    if email is None or (isinstance(email, str) and not email.strip()):
        raise required("email")
    return pf.clean_email(email)


def _locked_with_email(account: Account, value: str) -> tuple[Account, list[AccountEmail], AccountEmail]:
    """The account, locked, its emails (oldest first) and the one whose address is `value`
    in any case; 1340 when it has none. Runs inside the caller's transaction."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    rows = list(AccountEmail.objects.filter(account=account).order_by("id"))
    row = next((r for r in rows if r.value.lower() == value.lower()), None)
    if row is None:
        raise LRError(1340)
    return account, rows, row


def account_email_remove(
    *, tenant: Tenant, actor: Actor, account: Account, email: Any, reason: str = "", ticket: str = ""
) -> Account:
    """Remove one email; never the last one (1005)."""
    value = _email_argument(email)
    with transaction.atomic():
        account, rows, row = _locked_with_email(account, value)
        if len(rows) == 1:
            raise LRError(1005)
        row.delete()
        remaining = [r.value for r in rows if r.pk != row.pk]
        _refresh_search_text(account, remaining)
        Account.objects.filter(pk=account.pk).update(modified=timezone.now())
        _record(tenant=tenant, actor=actor, action="account_email.removed", account=account,
                reason=reason, ticket=ticket, changes={"Email": [f"{row.type}:{row.value}", None]})
    return account


def account_email_make_primary(
    *, tenant: Tenant, actor: Actor, account: Account, email: Any, reason: str = "", ticket: str = ""
) -> Account:
    """Make one of the account's emails its Primary (1340 if it has no such email). The
    former primary becomes Secondary, or takes the promoted email's old type when another
    email is already Secondary, so each type still names one email; every email keeps its
    verified state."""
    value = _email_argument(email)
    with transaction.atomic():
        account, rows, row = _locked_with_email(account, value)
        if row.type.lower() == "primary":
            return account
        before = [f"{r.type}:{r.value}" for r in rows]
        secondary_taken = any(r.type.lower() == "secondary" for r in rows if r.pk != row.pk)
        demoted_type = row.type if secondary_taken else "Secondary"
        for other in rows:
            if other.type.lower() == "primary":
                other.type = demoted_type
                other.save(update_fields=["type"])
        row.type = "Primary"
        row.save(update_fields=["type"])
        Account.objects.filter(pk=account.pk).update(modified=timezone.now())
        _record(tenant=tenant, actor=actor, action="account_email.made_primary", account=account,
                reason=reason, ticket=ticket,
                changes={"Email": [before, [f"{r.type}:{r.value}" for r in rows]]})
    return account


def account_email_mark_verified(*, tenant: Tenant, actor: Actor, account: Account, email: str) -> Account:
    """The owner proved `email` (verification link, OTP): the email and the account are verified."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        row = next((r for r in AccountEmail.objects.filter(account=account) if r.value.lower() == str(email).strip().lower()), None)
        if row is None:
            raise LRError(1340)
        was = (row.verified, account.email_verified)
        row.verified = True
        row.save(update_fields=["verified"])
        account.email_verified = True
        account.save(update_fields=["email_verified", "modified"])
        _record(tenant=tenant, actor=actor, action="account_email.verified", account=account,
                changes={"EmailVerified": [was[1], True], "Email": [row.value, row.value]} if was != (True, True) else {})
    return account


def account_email_verification_invalidate(
    *, tenant: Tenant, actor: Actor, account: Account, template: str = "", verification_url: str = ""
) -> Account:
    """Mark the email unverified and queue a new verification message (1113 without an
    email, 1115 if already unverified)."""
    from tokens.services.multipurpose import verification_email_send

    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        rows = list(AccountEmail.objects.filter(account=account).order_by("id"))
        if not rows:
            raise LRError(1113)
        if not account.email_verified:
            raise LRError(1115)
        account.email_verified = False
        account.save(update_fields=["email_verified", "modified"])
        AccountEmail.objects.filter(account=account).update(verified=False)
        primary = next((r for r in rows if r.type.lower() == "primary"), rows[0])
        verification_email_send(
            tenant=tenant, account=account, email=primary.value, actor=actor,
            template=template or "", verification_url=verification_url or "",
        )
        _record(tenant=tenant, actor=actor, action="account_email.verification_invalidated", account=account,
                changes={"EmailVerified": [True, False]})
    return account


# ---------------------------------------------------------------- phone


def account_phone_update(
    *, tenant: Tenant, actor: Actor, account: Account, phone: Any, reason: str = "", ticket: str = ""
) -> Account:
    """Replace the phone id directly (no OTP: a back end vouches for it)."""
    if phone is None or (isinstance(phone, str) and not phone.strip()):
        raise required("phone")
    phone_id = pf.clean_phone(phone)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        if Account.objects.filter(tenant=tenant, phone_id=phone_id).exclude(pk=account.pk).exists():
            raise LRError(1058)
        before = account.phone_id
        account.phone_id = phone_id
        if before != phone_id:
            account.phone_id_verified = False
        try:
            with transaction.atomic():
                account.save(update_fields=["phone_id", "phone_id_verified", "modified"])
        except IntegrityError as exc:
            raise _integrity_error(exc) from exc
        _refresh_search_text(account)
        _record(tenant=tenant, actor=actor, action="account_phone.updated", account=account,
                reason=reason, ticket=ticket, changes={"PhoneId": [before, phone_id]} if before != phone_id else {})
    return account


def account_phone_mark_verified(*, tenant: Tenant, actor: Actor, account: Account) -> Account:
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        if not account.phone_id:
            raise LRError(1147)
        was = account.phone_id_verified
        account.phone_id_verified = True
        account.save(update_fields=["phone_id_verified", "modified"])
        _record(tenant=tenant, actor=actor, action="account_phone.verified", account=account,
                changes={"PhoneIdVerified": [was, True]} if not was else {})
    return account


def account_phone_verification_invalidate(
    *, tenant: Tenant, actor: Actor, account: Account, template: str = "", voice: bool = False
) -> Account:
    """Mark the phone unverified and queue a verification OTP (1147 without a phone, 1161
    if already unverified)."""
    from tokens.services.multipurpose import phone_verification_send

    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        if not account.phone_id:
            raise LRError(1147)
        if not account.phone_id_verified:
            raise LRError(1161)
        account.phone_id_verified = False
        account.save(update_fields=["phone_id_verified", "modified"])
        phone_verification_send(tenant=tenant, account=account, actor=actor, template=template or "", voice=voice)
        _record(tenant=tenant, actor=actor, action="account_phone.verification_invalidated", account=account,
                changes={"PhoneIdVerified": [True, False]})
    return account


# ---------------------------------------------------------------- password


def account_password_set(*, tenant: Tenant, actor: Actor, account: Account, password: Any, reason: str = "") -> Account:
    """Set a new password: checked against the password validators, hashed with the default
    hasher; every session ends and pending reset tokens stop working."""
    from tokens.services.multipurpose import account_tokens_retire

    if password is None or (isinstance(password, str) and not password):
        raise required("password")
    error = _password_errors(password)
    if error:
        raise error
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        had = bool(account.password)
        was_required = account.password_change_required
        account.password = make_password(password)
        account.last_password_change_date = timezone.now()
        account.password_change_required = False
        account.save(update_fields=["password", "last_password_change_date", "password_change_required", "modified"])
        _revoke_sessions(tenant=tenant, actor=actor, account=account, reason=reason or "password changed")
        account_tokens_retire(account=account, purposes=["forgotpassword"])
        changes = {"HasPassword": [had, True]}
        if was_required:
            changes["ResetRequired"] = [True, False]  # a key naming "password" would be redacted
        _record(tenant=tenant, actor=actor, action="account_password.set", account=account, reason=reason,
                changes=changes)
    return account


def account_password_change_require(
    *, tenant: Tenant, actor: Actor, account: Account, reason: str = "", ticket: str = ""
) -> bool:
    """Refuse password sign-in (1317) until a new password is set, for an account whose
    password is known to someone else. Factors and sessions are left to the caller.
    Returns whether the flag was newly set."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        was = account.password_change_required
        if not was:
            account.password_change_required = True
            account.save(update_fields=["password_change_required", "modified"])
        _record(tenant=tenant, actor=actor, action="account_password.change_required", account=account,
                reason=reason, ticket=ticket, changes={} if was else {"ResetRequired": [False, True]})
    return not was


def account_password_verify(*, account: Account, password: str) -> bool:
    """Whether `password` is the account's; a hash made with an older hasher or parameters
    is replaced by one from the current default on success."""
    if not account.password or not isinstance(password, str):
        return False

    def upgrade(raw: str) -> None:
        account.password = make_password(raw)
        Account.objects.filter(pk=account.pk).update(password=account.password)

    return check_password(password, account.password, setter=upgrade)


def account_login_record(*, tenant: Tenant, account: Account) -> Account:
    """Count a successful sign-in (NoOfLogins, LastLoginDate)."""
    now = timezone.now()
    ctx = context.current()
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(no_of_logins=F("no_of_logins") + 1, last_login_date=now)
        account.refresh_from_db(fields=["no_of_logins", "last_login_date"])
        audit.record(
            tenant=tenant, actor=Actor.account(account.uid), action="account.login_recorded",
            subject_uid=account.uid, changes={"NoOfLogins": [account.no_of_logins - 1, account.no_of_logins],
                                              "LastLoginIP": [None, ctx.ip]},
        )
    return account


# ---------------------------------------------------------------- UID


def account_uid_update(*, tenant: Tenant, actor: Actor, account: Account, new_uid_value: Any) -> Account:
    """Give the account another UID (1200 if malformed, 1044 if taken); everything that hangs
    on the account follows, since other rows reference it by its key, not its UID."""
    if new_uid_value is None or (isinstance(new_uid_value, str) and not new_uid_value.strip()):
        raise required("newUid")
    value = pf.clean_uid(new_uid_value.strip() if isinstance(new_uid_value, str) else new_uid_value)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        old = account.uid
        if value == old:
            return account
        if Account.objects.filter(tenant=tenant, uid=value).exists():
            raise LRError(1044)
        previous = list((account.profile or {}).get("PreviousUids") or [])
        account.profile = {**(account.profile or {}), "PreviousUids": [*previous, old]}
        account.uid = value
        account.is_custom_uid = True
        try:
            with transaction.atomic():
                account.save(update_fields=["uid", "is_custom_uid", "profile", "modified"])
        except IntegrityError as exc:
            raise _integrity_error(exc) from exc
        _refresh_search_text(account)
        audit.record(tenant=tenant, actor=actor, action="account.uid_changed", subject_uid=value,
                     changes={"Uid": [old, value]})
    return account


# ---------------------------------------------------------------- identities


def _clean_identity_emails(emails: Any) -> list[dict[str, str]]:
    if emails is None:
        return []
    if not isinstance(emails, list):
        raise LRError(1134, errors=[{"FieldName": "emails", "ErrorMessage": "emails must be a list."}])
    pf.reject_nul(emails, "emails")
    result = []
    for item in emails:
        if isinstance(item, dict):
            body = pf.lower_keys(item)
            result.append({"Type": str(body.get("type") or "Primary")[: pf.EMAIL_TYPE_MAX_LENGTH], "Value": pf.clean_email(body.get("value"))})
        else:
            result.append({"Type": "Primary", "Value": pf.clean_email(item)})
    return result


def _clean_provider(provider: Any, provider_id: Any) -> tuple[str, str]:
    if not isinstance(provider, str) or not provider.strip():
        raise required("provider")
    if not isinstance(provider_id, str | int) or isinstance(provider_id, bool) or not str(provider_id).strip():
        raise required("providerid")
    provider, provider_id = provider.strip().lower(), str(provider_id).strip()
    pf.reject_nul(provider, "provider")
    pf.reject_nul(provider_id, "providerid")
    if len(provider) > 50 or len(provider_id) > 255:
        raise LRError(1134, errors=[{"FieldName": "provider", "ErrorMessage": "provider or provider id is too long."}])
    return provider, provider_id


def account_identity_link(
    *,
    tenant: Tenant,
    actor: Actor,
    account: Account,
    provider: Any,
    provider_id: Any,
    profile: Any = None,
    emails: Any = None,
    reason: str = "",
) -> AccountIdentity:
    """Link a provider identity to the account (or refresh its profile if it already is);
    refused when that provider identity belongs to another account."""
    provider, provider_id = _clean_provider(provider, provider_id)
    if profile is not None and not isinstance(profile, dict):
        raise LRError(1134, errors=[{"FieldName": "profile", "ErrorMessage": "profile must be an object."}])
    pf.reject_nul(profile, "profile")
    email_items = _clean_identity_emails(emails)
    with transaction.atomic():
        existing = AccountIdentity.objects.filter(tenant=tenant, provider=provider, provider_id=provider_id).first()
        if existing is not None and existing.account_id != account.pk:
            raise _identity_taken()
        data = {**(profile or {}), "Email": email_items}
        try:
            with transaction.atomic():
                if existing is None:
                    identity = AccountIdentity.objects.create(
                        tenant=tenant, account=account, provider=provider, provider_id=provider_id, profile=data
                    )
                else:
                    identity = existing
                    identity.profile = data
                    identity.save(update_fields=["profile"])
                    identity.emails.all().delete()
                AccountIdentityEmail.objects.bulk_create(
                    [AccountIdentityEmail(tenant=tenant, identity=identity, type=e["Type"], value=e["Value"]) for e in email_items]
                )
        except IntegrityError as exc:
            raise _integrity_error(exc) from exc
        Account.objects.filter(pk=account.pk).update(modified=timezone.now())
        _record(tenant=tenant, actor=actor, action="account_identity.linked", account=account, reason=reason,
                changes={"Identity": [None, f"{provider}:{provider_id}"]} if existing is None else {})
    return identity


def account_identity_unlink(
    *, tenant: Tenant, actor: Actor, account: Account, provider: Any, provider_id: Any, reason: str = "",
    ticket: str = "",
) -> None:
    """Unlink a provider identity, unless it is the account's last way to sign in."""
    provider, provider_id = _clean_provider(provider, provider_id)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        identity = AccountIdentity.objects.filter(
            tenant=tenant, account=account, provider=provider, provider_id=provider_id
        ).first()
        if identity is None:
            raise LRError(404, "This provider identity is not linked to the account.")
        has_password_login = bool(account.password) and (
            bool(account.username) or bool(account.phone_id) or AccountEmail.objects.filter(account=account).exists()
        )
        has_other_identity = AccountIdentity.objects.filter(account=account).exclude(pk=identity.pk).exists()
        if not has_password_login and not has_other_identity:
            raise LRError(
                1134,
                errors=[{"FieldName": "provider", "ErrorMessage": "This identity is the account's last way to sign in; set a password or link another identity first."}],
            )
        identity.delete()
        Account.objects.filter(pk=account.pk).update(modified=timezone.now())
        _record(tenant=tenant, actor=actor, action="account_identity.unlinked", account=account, reason=reason,
                ticket=ticket, changes={"Identity": [f"{provider}:{provider_id}", None]})
