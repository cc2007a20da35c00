"""The LoginRadius face of the domain errors: which code, description and headers each
named error answers with, so bodies on the wire stay what LoginRadius SDKs expect.

An error class finds its row through its bases (CustomObjectDataInvalid answers as
InvalidInput does). tests/portal/test_domain_errors.py requires every registered error to
have a row here; the kind-based fallback only keeps a forgotten row from becoming a 500.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from portal import errors as e
from portal.lrapi.errors import LRError


@dataclass(frozen=True)
class LRMapping:
    """`errors`: the field errors go into the body's `Errors`. `message_is_description`:
    the error's own message is the Description even when it is the class default (a
    wording the catalogue entry lacks); otherwise only a raiser's message replaces it.
    `field_keys`: the names of an `Errors` item's two keys (field, message)."""

    code: int
    errors: bool = False
    message_is_description: bool = False
    headers: Callable[[e.DomainError], dict[str, str]] | None = None
    field_keys: tuple[str, str] = ("FieldName", "ErrorMessage")


LR_MAPPING: dict[type[e.DomainError], LRMapping] = {
    e.InvalidInput: LRMapping(1134, errors=True),
    e.CredentialRotationRefused: LRMapping(1134, message_is_description=True),
    # Native API only (Idempotency-Key); rows so the LoginRadius face stays total.
    e.IdempotencyKeyReused: LRMapping(1134, message_is_description=True),
    e.IdempotencyKeyInvalid: LRMapping(1134, message_is_description=True),
    e.IdempotencyKeyInFlight: LRMapping(1134, message_is_description=True),
    e.FieldRequired: LRMapping(908),
    e.InvalidValue: LRMapping(908),
    e.MalformedJSON: LRMapping(1090),
    e.AccountNotFound: LRMapping(938),
    e.RateLimited: LRMapping(429),
    e.RoleNotFound: LRMapping(1047),
    e.RoleNameInvalid: LRMapping(1175),
    e.RoleNameTaken: LRMapping(1175),
    e.RoleContextNameInvalid: LRMapping(1133),
    e.RoleContextNotFound: LRMapping(1133, message_is_description=True),
    e.RoleNotInContext: LRMapping(1047),
    e.RoleContextVersionStale: LRMapping(9412, message_is_description=True),
    e.PermissionNotFound: LRMapping(1142),
    e.CustomObjectsNotConfigured: LRMapping(999),
    e.CustomObjectTypeNotFound: LRMapping(1064),
    e.CustomObjectTypeInUse: LRMapping(1134, errors=True),
    e.CustomObjectNotAnObject: LRMapping(1035),
    e.CustomObjectTooLarge: LRMapping(1002),
    e.CustomObjectRecordLimitReached: LRMapping(998),
    e.CustomObjectRecordIdInvalid: LRMapping(995),
    e.CustomObjectRecordIdTaken: LRMapping(995, message_is_description=True),
    e.CustomObjectRecordNotFound: LRMapping(1057),
    e.CustomObjectRecordChanged: LRMapping(
        9412, headers=lambda error: {"ETag": error.current_etag}
    ),
    e.CustomObjectVersionStale: LRMapping(9412, message_is_description=True),
    e.CustomObjectTypeVersionStale: LRMapping(9412, message_is_description=True),
}


def register_mappings(mappings: dict[type[e.DomainError], LRMapping]) -> None:
    """Add the LoginRadius rows of a section's own errors (its api package calls this at
    import, so the rows exist before any request)."""
    for error_class, mapping in mappings.items():
        if LR_MAPPING.get(error_class, mapping) != mapping:
            raise ValueError(f"{error_class.__name__} is mapped twice")
        LR_MAPPING[error_class] = mapping


KIND_FALLBACK: dict[e.Kind, LRMapping] = {
    e.Kind.INVALID: LRMapping(1134, errors=True, message_is_description=True),
    e.Kind.NOT_FOUND: LRMapping(404, message_is_description=True),
    e.Kind.CONFLICT: LRMapping(1134, errors=True, message_is_description=True),
    e.Kind.PRECONDITION: LRMapping(9412, message_is_description=True),
    e.Kind.FORBIDDEN: LRMapping(1143, message_is_description=True),
    e.Kind.TOO_MANY: LRMapping(429, message_is_description=True),
    e.Kind.MISMATCH: LRMapping(1134, message_is_description=True),
}

logger = logging.getLogger("portal.api")


def lr_mapping(error_class: type[e.DomainError]) -> LRMapping | None:
    """The row of the class or of its nearest mapped base."""
    for cls in error_class.__mro__:
        if cls in LR_MAPPING:
            return LR_MAPPING[cls]
    return None


def lr_error(error: e.DomainError) -> LRError:
    """The LoginRadius error a domain error answers as."""
    mapping = lr_mapping(type(error))
    if mapping is None:
        logger.error("domain error %s has no LoginRadius mapping", error.code)
        mapping = KIND_FALLBACK[error.kind]
    headers = dict(mapping.headers(error)) if mapping.headers else {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    use_message = mapping.message_is_description or not error.message_is_default
    return LRError(
        mapping.code,
        error.message if use_message else None,
        errors=[
            dict(zip(mapping.field_keys, (f.field, f.message), strict=True))
            for f in error.field_errors
        ]
        if mapping.errors
        else None,
        headers=headers,
    )
