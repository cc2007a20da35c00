"""Named domain errors: what a service refuses, said in the project's own terms.

Services raise these and know nothing of any wire format. Each front door renders them
its own way: portal/lrapi/domain_errors.py maps them to LoginRadius codes and envelope,
portal/api/problems.py to RFC 9457 problem details, `DomainError.sentence` to
sentences. Every error class is registered here by its stable `code`; tests walk
`REGISTRY` so that an error no front door can answer fails the suite, not a request.

A section adds its own errors by subclassing `DomainError` (or one of the general ones
below) with `@register`; nothing here changes for it.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, TypeVar


class Kind(StrEnum):
    """What sort of refusal an error is; front doors choose their status from it."""

    INVALID = "invalid"  # the input is wrong; sending it again will not help
    NOT_FOUND = "not_found"  # what the input names does not exist (for this tenant)
    CONFLICT = "conflict"  # the input is fine but clashes with what is stored
    PRECONDITION = "precondition"  # the caller's view of the data is out of date
    FORBIDDEN = "forbidden"  # the caller may not do this
    TOO_MANY = "too_many"  # a limit over time was reached; see retry_after
    MISMATCH = "mismatch"  # the request contradicts an earlier one it claims to repeat


@dataclass(frozen=True)
class FieldError:
    """One input field that failed, with why (`code` is stable, `message` is for people)."""

    field: str
    message: str
    code: str = "invalid"


class DomainError(Exception):
    """The base of every named error. `message` is a sentence a person can act on;
    `message_is_default` says whether the raiser left it to the class's own wording."""

    code: ClassVar[str] = "error"
    kind: ClassVar[Kind] = Kind.INVALID
    title: ClassVar[str] = "The request was refused"
    default_message: ClassVar[str] = "The request was refused."

    def __init__(
        self,
        message: str | None = None,
        *,
        field_errors: tuple[FieldError, ...] | list[FieldError] = (),
        retry_after: int | None = None,
    ):
        self.message_is_default = message is None
        self.message = message or self.default_message
        self.field_errors = tuple(field_errors)
        self.retry_after = retry_after
        super().__init__(self.message)

    def sentence(self) -> str:
        """What a person reads (console, admin): the message, then each field's own."""
        details = [
            item.message
            for item in self.field_errors
            if item.message and item.message != self.message
        ]
        return " ".join([self.message, *details])


REGISTRY: dict[str, type[DomainError]] = {}
E = TypeVar("E", bound=type[DomainError])


def register(cls: E) -> E:
    """Enter an error class in the registry under its code (codes are unique)."""
    if cls.code in REGISTRY:
        raise ValueError(f"domain error code {cls.code!r} is registered twice")
    REGISTRY[cls.code] = cls
    return cls


# General input errors ------------------------------------------------------------------


@register
class InvalidInput(DomainError):
    """Several fields may be wrong at once; each is in `field_errors`."""

    code = "input.invalid"
    title = "Invalid input"
    default_message = "One or more fields failed validation."


@register
class FieldRequired(DomainError):
    code = "input.required"
    title = "A required value is missing"
    default_message = "A required value is missing."

    def __init__(self, field: str, message: str | None = None):
        self.field = field
        text = message or f"The {field} is a required parameter."
        super().__init__(text, field_errors=[FieldError(field, text, "required")])


@register
class InvalidValue(DomainError):
    """One named value is not acceptable (wrong type, format or range)."""

    code = "input.invalid_value"
    title = "A value is not acceptable"
    default_message = "A value is not acceptable."

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message, field_errors=[FieldError(field, message)])


@register
class MalformedJSON(DomainError):
    code = "input.malformed_json"
    title = "Malformed JSON"
    default_message = "The text is not valid JSON."


@register
class RateLimited(DomainError):
    """Too many attempts of one kind within a window; `retry_after` (whole seconds) says when
    the next one is counted again."""

    code = "request.rate_limited"
    kind = Kind.TOO_MANY
    title = "Too many requests"
    default_message = "Too many requests; retry later."

    def __init__(self, retry_after: int):
        super().__init__(retry_after=int(retry_after))


# Accounts, as other sections see them --------------------------------------------------


@register
class AccountNotFound(DomainError):
    """Also what another tenant's account is: "not found", whoever passed it in."""

    code = "account.not_found"
    kind = Kind.NOT_FOUND
    title = "Account not found"
    default_message = "The account does not exist."


# Roles ---------------------------------------------------------------------------------


@register
class RoleNotFound(DomainError):
    code = "role.not_found"
    kind = Kind.NOT_FOUND
    title = "Role not found"
    default_message = "The role does not exist."

    def __init__(self, name: str | None = None):
        self.name = name
        super().__init__(f"The role '{name[:100]}' does not exist." if name is not None else None)


@register
class RoleNameInvalid(DomainError):
    code = "role.name_invalid"
    title = "Role name not valid"
    default_message = "The role name is not valid."


@register
class RoleNameTaken(DomainError):
    code = "role.name_taken"
    kind = Kind.CONFLICT
    title = "Role name already in use"
    default_message = "A role with this name already exists."


@register
class RoleContextNameInvalid(DomainError):
    code = "role_context.name_invalid"
    title = "Role context name not valid"
    default_message = "The role context name is not valid."


@register
class RoleContextNotFound(DomainError):
    code = "role_context.not_found"
    kind = Kind.NOT_FOUND
    title = "Role context not found"
    default_message = "The role context does not exist for this user."


@register
class RoleNotInContext(DomainError):
    code = "role_context.role_not_held"
    kind = Kind.NOT_FOUND
    title = "Role not in the role context"
    default_message = "The role is not in this role context."

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"The role '{name[:100]}' does not exist in this role context.")


@register
class RoleContextVersionStale(DomainError):
    """The command expected another version of the role context: it changed (or was
    deleted) since the caller read it. `current_version` is the stored one (None: gone)."""

    code = "role_context.version_stale"
    kind = Kind.PRECONDITION
    title = "Role context changed since it was read"
    default_message = "The role context changed since it was read; read it again and retry."

    def __init__(self, current_version: str | None = None):
        self.current_version = current_version
        super().__init__()


@register
class PermissionNotFound(DomainError):
    code = "role_context.permission_not_found"
    kind = Kind.NOT_FOUND
    title = "Additional permission not found"
    default_message = "The additional permission does not exist in this role context."


# Custom objects ------------------------------------------------------------------------


@register
class CustomObjectsNotConfigured(DomainError):
    code = "customobject.not_configured"
    kind = Kind.NOT_FOUND
    title = "Custom objects not configured"
    default_message = "No custom object is configured for this tenant."


@register
class CustomObjectTypeNotFound(DomainError):
    code = "customobject.type_not_found"
    kind = Kind.NOT_FOUND
    title = "Custom object type not found"
    default_message = "No custom object of this name is configured."


@register
class CustomObjectTypeInUse(DomainError):
    code = "customobject.type_in_use"
    kind = Kind.CONFLICT
    title = "Custom object type still holds records"
    default_message = "The custom object type still holds records."


@register
class CustomObjectSchemaInvalid(InvalidInput):
    code = "customobject.schema_invalid"
    title = "Custom object schema not valid"
    default_message = "The JSON Schema is not valid."


@register
class CustomObjectDataInvalid(InvalidInput):
    """A record's content fails its type's schema; each failure is a field error named by
    its JSON pointer."""

    code = "customobject.data_invalid"
    title = "Custom object does not match its schema"
    default_message = "The custom object does not match the schema of its type."


@register
class CustomObjectNotAnObject(DomainError):
    code = "customobject.not_an_object"
    title = "Custom object is not a JSON object"
    default_message = "The custom object must be a valid JSON object."


@register
class CustomObjectTooLarge(DomainError):
    """Over the type's (or the hard) size or nesting depth limit."""

    code = "customobject.too_large"
    title = "Custom object too large"
    default_message = "The custom object exceeds its size or depth limit."


@register
class CustomObjectRecordLimitReached(DomainError):
    code = "customobject.record_limit_reached"
    kind = Kind.CONFLICT
    title = "Custom object record limit reached"
    default_message = "The account already holds as many records of this type as allowed."


@register
class CustomObjectRecordIdInvalid(DomainError):
    code = "customobject.record_id_invalid"
    title = "Custom object record id not valid"
    default_message = "The record id must be 1-64 letters, digits, '_' or '-'."


@register
class CustomObjectRecordIdTaken(DomainError):
    code = "customobject.record_id_taken"
    kind = Kind.CONFLICT
    title = "Custom object record id already in use"
    default_message = "A record with this id already exists."


@register
class CustomObjectRecordNotFound(DomainError):
    code = "customobject.record_not_found"
    kind = Kind.NOT_FOUND
    title = "Custom object record not found"
    default_message = "The custom object record was not found."


@register
class CustomObjectRecordChanged(DomainError):
    """The caller's If-Match names an older version; `current_etag` is the stored one."""

    code = "customobject.record_changed"
    kind = Kind.PRECONDITION
    title = "Record changed since it was read"
    default_message = "The record changed since it was read; read it again and retry."

    def __init__(self, current_etag: str):
        self.current_etag = current_etag
        super().__init__()


@register
class CustomObjectVersionStale(DomainError):
    """The command expected another version of the record (its `expected_version`, see
    customobjects.selectors.record_version): it changed since the caller read it."""

    code = "customobject.version_stale"
    kind = Kind.PRECONDITION
    title = "Record changed since it was read"
    default_message = "The record changed since it was read; read it again and retry."

    def __init__(self, current_version: str | None = None):
        self.current_version = current_version
        super().__init__()


@register
class CustomObjectTypeVersionStale(DomainError):
    """The command expected another version of the custom object type (see
    customobjects.selectors.object_type_version): it changed since the caller read it."""

    code = "customobject_type.version_stale"
    kind = Kind.PRECONDITION
    title = "Custom object type changed since it was read"
    default_message = "The custom object type changed since it was read; read it again and retry."


# The native API's Idempotency-Key (portal/idempotency.py).
@register
class IdempotencyKeyReused(DomainError):
    code = "idempotency.key_reused"
    kind = Kind.MISMATCH
    title = "Idempotency-Key reused with another request"
    default_message = (
        "This Idempotency-Key was used with a different request; use a new key for a new request."
    )


@register
class IdempotencyKeyInFlight(DomainError):
    code = "idempotency.in_flight"
    kind = Kind.CONFLICT
    title = "The first request with this Idempotency-Key is still running"
    default_message = "A request with this Idempotency-Key is still running; retry shortly."


@register
class IdempotencyKeyInvalid(DomainError):
    code = "idempotency.key_invalid"
    kind = Kind.INVALID
    title = "Invalid Idempotency-Key"
    default_message = "An Idempotency-Key is 1 to 200 printable ASCII characters."


@register
class CredentialRotationRefused(DomainError):
    """A secret rotation was refused; nothing changed (the message says why)."""

    code = "credential.rotation_refused"
    title = "The secret cannot be rotated"
    default_message = "This secret cannot be rotated."
