"""Reading a LoginRadius ManageRegisterModel body (create and update of an account) into the
command the account services take (accounts/commands.py).

The wire's own rules live here: keys in any case (`firstname` is `FirstName`, the last
spelling wins), read-only keys a caller sends back are ignored, and so are keys the profile
does not know on an update (unless the tenant asks for strict keys), so a profile read and
written back as it is changes nothing; nulls clear a field, or a custom field, only with
`nullsupport=true` and are no change at all without it; `op:delete` items remove addresses
and list items, string booleans, and the nested shapes of Country, PrivacyPolicy, Consents
and PINInfo. The values are checked with the domain's own checks (accounts/profile_fields/)
as each field is read, so a body with several problems answers with the same first error it
always did; the service checks the command again, as it does for every front door.
"""

import json
from typing import Any

from accounts import profile_fields as pf
from accounts.commands import (
    AccountChanges,
    AccountCreate,
    Consent,
    ConsentChanges,
    ConsentEvent,
    EmailAddress,
    EmailEdit,
    ListEdit,
    PinChange,
)
from accounts.extensions import profile_fields
from accounts.services import password_check

# Fields whose null clears them (with nullsupport); a null of any other field is no change.
CLEARABLE = frozenset(
    (
        "UserName",
        "PhoneId",
        *pf.NAME_COLUMNS,
        *pf.PROFILE_STRINGS,
        *pf.PROFILE_ARRAYS,
        *pf.PROFILE_FLAGS,
        "Country",
        "SessionLimit",
        "CustomFields",
        "RegistrationSource",
    )
)


def canonicalise(body: Any, problems: pf.Problems, *, unknown_keys: bool = True) -> dict[str, Any]:
    """The body with canonical key names. Read-only keys are dropped, and so are the keys a
    section adds to the profile (accounts.extensions), which a profile read back carries. A
    key the profile does not know is reported with `unknown_keys`, otherwise dropped too."""
    if not isinstance(body, dict):
        raise pf.invalid("", "The body must be a JSON object.")
    for key, value in body.items():
        pf.reject_nul(key, "")
        pf.reject_nul(value, str(key))
    shown = {field.key.lower() for field in profile_fields()}
    result: dict[str, Any] = {}
    for key, value in body.items():
        canonical = pf.KNOWN.get(str(key).lower())
        if canonical is None:
            if unknown_keys and str(key).lower() not in shown:
                problems.add(str(key), f"The field {key} is not a known profile field.")
        elif canonical in pf.WRITABLE_SET:
            result[canonical] = value
    return result


def security_answers(body: Any) -> dict[str, str] | None:
    """The SecurityQuestionAnswer of a create or update body the account services accepted
    (its shape is checked with the body; the security section stores it), or None when
    absent or empty. Keys match in any case and the last one wins, as in `canonicalise`."""
    if hasattr(body, "raw"):
        body = body.raw()
    value = None
    for key, item in body.items() if isinstance(body, dict) else ():
        if str(key).lower() == "securityquestionanswer":
            value = item
    return dict(value) if isinstance(value, dict) and value else None


def account_changes_read(
    body: Any,
    *,
    null_support: bool = False,
    reason: str = "",
    ticket: str = "",
    strict_keys: bool = False,
    current: dict[str, Any] | None = None,
) -> AccountChanges:
    """The update a PUT /identity/v2/manage/account/{uid} body asks for. A key the profile
    does not know is ignored, as LoginRadius ignores it, unless `strict_keys` (the tenant's
    `profile_update_strict_keys`) refuses it with 1134. With `current` (the account's
    profile as it is shown now), a field or custom field sent with the value shown is no
    change, so a profile read and sent back is accepted as it is, even a value an update
    would not take as new (an imported birth date in another format)."""
    read = _BodyReader(
        creating=False, null_support=null_support, strict_keys=strict_keys, current=current
    )
    read.body(body)
    return AccountChanges(
        **read.profile_write(),
        cleared=tuple(read.cleared),
        custom_fields_removed=tuple(read.custom_fields_removed),
        reason=reason,
        ticket=ticket,
    )


def account_create_read(body: Any) -> AccountCreate:
    """The account a POST /identity/v2/manage/account body asks for."""
    read = _BodyReader(creating=True, null_support=False)
    read.body(body)
    return AccountCreate(
        **read.profile_write(),
        uid=read.uid,
        password=read.password,
        registration_provider=read.registration_provider,
    )


def email_addresses_read(value: Any) -> tuple[EmailAddress, ...]:
    """The `Email` list of an upsert body (`[{"Type", "Value"}]`, keys in any case), checked."""
    edits = email_edits_read(value, allow_delete=False)
    return tuple(EmailAddress(type=e.type, value=e.value) for e in edits)


def email_edits_read(value: Any, *, allow_delete: bool) -> tuple[EmailEdit, ...]:
    """`Email[]` items (`{"Type", "Value"}`, or `{"op": "delete", "Value"}` on update) as
    checked edits; 1201/1202/1203/1038 as LoginRadius has them, item by item."""
    if not isinstance(value, list):
        raise pf.invalid("Email", "The Email field must be a list of {Type, Value}.")
    pf.reject_nul(value, "Email")
    edits: list[EmailEdit] = []
    for raw in value:
        if not isinstance(raw, dict):
            # The items before this one answer first, as they are read first.
            pf.email_edits_check(edits, allow_remove=allow_delete)
            raise pf.invalid("Email", "Each Email item must be an object.")
        item = pf.lower_keys(raw)
        if allow_delete and _is_delete(item):
            edits.append(EmailEdit(value=item.get("value"), remove=True))
        else:
            edits.append(EmailEdit(type=item.get("type"), value=item.get("value")))
    return tuple(pf.email_edits_check(edits, allow_remove=allow_delete))


def _is_delete(item: dict[str, Any]) -> bool:
    return str(item.get("op") or "").lower() == "delete"


def _without_op(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if str(k).lower() != "op"}


def list_edits_read(items: list) -> tuple[ListEdit, ...]:
    """The items of a list field (already checked by pf.clean_array) as edits: an object with
    `op: delete` removes the stored items it matches; the `op` key is never stored."""
    edits = []
    for item in items:
        if isinstance(item, dict):
            edits.append(ListEdit(item=_without_op(item), remove=_is_delete(pf.lower_keys(item))))
        else:
            edits.append(ListEdit(item=item))
    return tuple(edits)


class _BodyReader:
    """Reads one body field by field, in the body's order, into the parts of a command."""

    def __init__(
        self,
        *,
        creating: bool,
        null_support: bool,
        strict_keys: bool = True,
        current: dict[str, Any] | None = None,
    ) -> None:
        self.creating = creating
        self.null_support = null_support
        self.strict_keys = strict_keys
        self.current = current
        self.problems = pf.Problems()
        self.uid: str | None = None
        self.password: str | None = None
        self.registration_provider: str | None = None
        self.values: dict[str, Any] = {}
        self.cleared: list[str] = []
        self.emails: tuple[EmailEdit, ...] = ()
        self.lists: dict[str, tuple[ListEdit, ...]] = {}
        self.custom_fields: dict[str, Any] = {}
        self.custom_fields_removed: list[str] = []
        self.privacy_policy_version: str | None = None
        self.consents: ConsentChanges | None = None
        self.pin: PinChange | None = None

    def profile_write(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "emails": self.emails,
            "lists": self.lists,
            "custom_fields": self.custom_fields,
            "privacy_policy_version": self.privacy_policy_version,
            "consents": self.consents,
            "pin": self.pin,
        }

    def body(self, data: Any) -> None:
        """Read every field; raise the named error of the first problem."""
        if hasattr(data, "raw"):
            data = data.raw()
        fields = canonicalise(data, self.problems, unknown_keys=self.creating or self.strict_keys)
        self.problems.raise_if_any()
        if self.current is not None:
            fields = _changed_only(fields, self.current)
        for name, value in fields.items():
            if value is None:
                if not self.creating and self.null_support:
                    self.null(name)
                continue
            self.value(name, value)
        self.problems.raise_if_any()

    def null(self, name: str) -> None:
        """A null with nullsupport clears a clearable field. Any other null is no change:
        Email, Password and Uid are never cleared, and the profile shows them null when it
        has nothing to show (Password always, Email without addresses), so a profile read
        back with nullsupport must not fail on them."""
        if name in CLEARABLE:
            self.cleared.append(name)

    def value(self, name: str, value: Any) -> None:
        problems = self.problems
        if name == "Uid":
            if self.creating:
                self.uid = pf.clean_uid(value)
        elif name == "UserName":
            username = pf.clean_username(value, problems)
            if username is not None:
                self.values[name] = username
        elif name == "PhoneId":
            self.values[name] = pf.clean_phone(value)
        elif name == "Password":
            if not self.creating:
                problems.add(
                    "Password",
                    "The password cannot be changed here; use PUT /identity/v2/manage/account/{uid}/password.",
                )
            else:
                password_check(value)
                self.password = value
        elif name == "Email":
            self.emails = email_edits_read(value, allow_delete=not self.creating)
        elif name in pf.NAME_COLUMNS:
            self.text(name, value, pf.NAME_MAX_LENGTH)
        elif name == "BirthDate":
            self.values[name] = pf.clean_birth_date(value)
        elif name in pf.PROFILE_STRINGS:
            self.text(name, value, pf.PROFILE_STRING_MAX_LENGTH)
        elif name in pf.PROFILE_ARRAYS:
            items = pf.clean_array(name, value, problems)
            if items is not None:
                self.lists[name] = list_edits_read(items)
        elif name in pf.PROFILE_FLAGS or name == "AcceptPrivacyPolicy":
            flag = pf.clean_bool(name, value, problems)
            if flag is not None and name != "AcceptPrivacyPolicy":
                self.values[name] = flag
        elif name in pf.STATE_FLAGS:
            self.state_flag(name, value)
        elif name == "Country":
            country = pf.clean_country(value, problems)
            if country is not None:
                self.values[name] = country
        elif name == "CustomFields":
            self.custom(value)
        elif name == "PrivacyPolicy":
            version = pf.lower_keys(value).get("version") if isinstance(value, dict) else None
            if not isinstance(version, str) or not version.strip() or len(version) > 100:
                problems.add("PrivacyPolicy", "PrivacyPolicy must be an object with a Version.")
            else:
                self.privacy_policy_version = version.strip()
        elif name == "Consents":
            self.consents = _consents_read(value, problems)
        elif name == "SecurityQuestionAnswer":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                problems.add(
                    "SecurityQuestionAnswer",
                    "SecurityQuestionAnswer must map question ids to answers.",
                )
        elif name == "PINInfo":
            self.pin = _pin_read(value, problems)
        elif name == "RegistrationSource":
            self.text(name, value, 300)
        elif name == "RegistrationProvider":
            text = pf.clean_string(name, value, problems, 40)
            if text is not None and self.creating:
                self.registration_provider = text
        elif name == "SessionLimit":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.add("SessionLimit", "SessionLimit must be a non-negative integer.")
            else:
                self.values[name] = value

    def text(self, name: str, value: Any, max_length: int) -> None:
        text = pf.clean_string(name, value, self.problems, max_length)
        if text is not None:
            self.values[name] = text

    def state_flag(self, name: str, value: Any) -> None:
        flag = pf.clean_bool(name, value, self.problems)
        if flag is None or name == "IsLoginLocked":
            return  # a lock is security's: the view sets it beside the account write
        if name == "IsDeleted":
            if flag:
                self.problems.add(
                    "IsDeleted", "Delete an account with DELETE /identity/v2/manage/account/{uid}."
                )
            return
        self.values[name] = flag

    def custom(self, value: Any) -> None:
        """CustomFields merge by key on update, where a null removes the key with nullsupport
        and is no change without it; a new account simply has no such key."""
        custom = pf.clean_custom_fields(value, self.problems)
        if custom is None:
            return
        self.custom_fields = {k: v for k, v in custom.items() if v is not None}
        if not self.creating and self.null_support:
            self.custom_fields_removed = [k for k, v in custom.items() if v is None]


def _as_shown(value: Any, shown: Any) -> bool:
    """Whether a body value is the one the profile shows, as JSON (`1` is not `true`)."""
    return json.dumps(value, sort_keys=True, default=str) == json.dumps(
        shown, sort_keys=True, default=str
    )


def _changed_only(fields: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The canonical fields whose value is not the one `current` shows; of CustomFields,
    the entries whose value is not the one shown."""
    result: dict[str, Any] = {}
    for name, value in fields.items():
        shown = current.get(name)
        if _as_shown(value, shown):
            continue
        if name == "CustomFields" and isinstance(value, dict) and isinstance(shown, dict):
            value = {
                key: item
                for key, item in value.items()
                if key not in shown or not _as_shown(item, shown[key])
            }
            if not value:
                continue
        result[name] = value
    return result


def _consents_read(value: Any, problems: pf.Problems) -> ConsentChanges | None:
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
        consents.append(Consent(consent_id=consent_id.strip(), accepted=accepted is not False))
    for item in events:
        item = pf.lower_keys(item)
        event = item.get("event")
        if not isinstance(event, str) or not event.strip():
            problems.add("Consents", "Every Consents.Events item needs an Event.")
            return None
        versions.append(
            ConsentEvent(
                event=event.strip(),
                version=str(item.get("version") or "1"),
                is_custom=bool(item.get("iscustom", False)),
            )
        )
    return ConsentChanges(consents=tuple(consents), events=tuple(versions))


def _pin_read(value: Any, problems: pf.Problems) -> PinChange | None:
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
    return PinChange(pin=None if pin is None else str(pin), skipped=bool(skipped))


# ---------------------------------------------------------------- single values of other bodies
# A value of the wrong JSON type answers with the error the domain's check gives it; a
# missing one becomes "", which the service refuses as required.


def uid_text(value: Any) -> str:
    """`newUid` of the v11 UID change."""
    if value is None:
        return ""
    return value if isinstance(value, str) else pf.clean_uid(value)


def email_text(value: Any) -> str:
    """The `email` of a remove-email body."""
    if value is None:
        return ""
    return value if isinstance(value, str) else pf.clean_email(value)


def phone_text(value: Any) -> str:
    """The `phone` of a phone body: a string, or a number written without its `+`."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else pf.clean_phone(value)


def password_text(value: Any) -> str:
    """The `password` of a set-password body."""
    if value is None:
        return ""
    if not isinstance(value, str):
        password_check(value)
    return value


def provider_text(value: Any) -> str:
    """A provider name or provider id (a number is its decimal text)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else ""


def identity_emails_read(value: Any) -> tuple[EmailAddress, ...]:
    """The `emails` of a native identity link: addresses, or `{"type", "value"}` objects."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise pf.invalid("emails", "emails must be a list.")
    pf.reject_nul(value, "emails")
    result = []
    for item in value:
        if isinstance(item, dict):
            body = pf.lower_keys(item)
            email_type, email = str(body.get("type") or "Primary"), body.get("value")
        else:
            email_type, email = "Primary", item
        result.append(
            EmailAddress(
                type=email_type, value=email if isinstance(email, str) else pf.clean_email(email)
            )
        )
    return tuple(result)
