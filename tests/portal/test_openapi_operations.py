"""Every operation of the OpenAPI schema is named and grouped on purpose: an explicit tag
(not drf-spectacular's fallback, the path's first segment), a unique operationId that is
not the generated `<path segments>_<action>` form, and, for the LoginRadius security
operations, the operation name and grouping of the LoginRadius API."""

import re
from collections import Counter

import pytest
from drf_spectacular.generators import SchemaGenerator

from security.api import urls as security_urls

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
ACTIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy")
GENERATED = re.compile(r"^(identity|api|service)_")
SECURITY_TAGS = {
    "Authentication",
    "Accounts",
    "Account Security",
    "Multi-factor Authentication",
    "Reauthentication",
    "Passkeys",
}
SECURITY_PATHS = re.compile(
    r"^/identity/v2/(auth/login|auth/account/(2fa|reauth|passkey|register/passkey)"
    r"|manage/account/(2fa|passkey|\{uid\}/reauth))(/|$)"
)


@pytest.fixture(scope="module")
def operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                found.append((method.upper(), path, operation))
    assert len(found) > 100
    return found


def first_segment(path: str) -> str:
    return path.strip("/").split("/")[0]


def generated_id(method: str, path: str) -> set[str]:
    """The operationIds drf-spectacular would make up for this path and method."""
    tokens = [t.replace("-", "_") for t in path.strip("/").split("/") if t and "{" not in t]
    return {"_".join([*tokens, action]) for action in ACTIONS}


def test_every_operation_has_an_explicit_tag(operations):
    fallback = [
        f"{method} {path}: {operation.get('tags')}"
        for method, path, operation in operations
        if not operation.get("tags") or first_segment(path) in operation["tags"]
    ]
    assert fallback == []


def test_operation_ids_are_unique(operations):
    counts = Counter(operation["operationId"] for _, _, operation in operations)
    assert {name: n for name, n in counts.items() if n > 1} == {}


def test_no_operation_id_is_generated_from_the_path(operations):
    generated = [
        f"{method} {path}: {operation['operationId']}"
        for method, path, operation in operations
        if GENERATED.match(operation["operationId"])
        or operation["operationId"] in generated_id(method, path)
    ]
    assert generated == []


def test_security_operations_use_loginradius_names_groups_and_summaries(operations):
    security = [(m, p, o) for m, p, o in operations if SECURITY_PATHS.match(p)]
    assert len(security) == 72
    for method, path, operation in security:
        assert len(operation["tags"]) == 1 and operation["tags"][0] in SECURITY_TAGS, (
            method,
            path,
        )
        assert re.fullmatch(r"[a-zA-Z][a-zA-Z0-9]+", operation["operationId"]), (method, path)
        assert operation.get("summary"), (method, path)


@pytest.mark.parametrize(
    ("method", "path", "operation_id", "tag"),
    [
        ("POST", "/identity/v2/auth/login", "loginByEmail", "Authentication"),
        ("POST", "/identity/v2/auth/login/2fa", "mfaLoginByEmail", "Multi-factor Authentication"),
        (
            "PUT",
            "/identity/v2/auth/login/2fa/verification/otp",
            "mfaValidateOtpByPhone",
            "Multi-factor Authentication",
        ),
        (
            "POST",
            "/identity/v2/auth/login/2fa/verification/otp",
            "mfaValidateOtpByPhonePost",
            "Multi-factor Authentication",
        ),
        (
            "PUT",
            "/identity/v2/auth/account/reauth/password",
            "mfaReAuthenticateByPassword",
            "Reauthentication",
        ),
        (
            "POST",
            "/identity/v2/auth/account/reauth/2fa/securityquestionanswer/verify",
            "reAuthBySecurityQuestion",
            "Reauthentication",
        ),
        (
            "POST",
            "/identity/v2/manage/account/{uid}/reauth/password",
            "validateSecondFactorTokenForPassword",
            "Account Security",
        ),
        (
            "GET",
            "/identity/v2/manage/account/2fa/backupcode/reset",
            "mfaResetBackupCodesByUid",
            "Account Security",
        ),
        (
            "DELETE",
            "/identity/v2/manage/account/2fa/sms",
            "mFAResetSMSAuthByUid",
            "Account Security",
        ),
        (
            "DELETE",
            "/identity/v2/manage/account/2fa/authenticator/duo",
            "resetDuoAuthByUidLegacy",
            "Account Security",
        ),
        ("GET", "/identity/v2/manage/account/passkey", "listPasskeyUser", "Accounts"),
        ("GET", "/identity/v2/auth/login/passkey/begin", "passkeyLoginBegin", "Passkeys"),
    ],
)
def test_loginradius_operation_names(operations, method, path, operation_id, tag):
    [operation] = [o for m, p, o in operations if (m, p) == (method, path)]
    assert operation["operationId"] == operation_id
    assert operation["tags"] == [tag]


def test_every_routed_operation_names_a_served_path(operations):
    """A view routed on several paths names each path's operation in `operations`; every
    entry must match a path and method the schema really has (no stale or misspelt key)."""
    served = {(method, path) for method, path, _ in operations}
    tables = {  # by identity: a subclass shares its parent's table
        id(view.operations): view.operations
        for view in (pattern.callback.view_class for pattern in security_urls.urlpatterns)
        if hasattr(view, "operations")
    }
    assert len(tables) >= 6
    keys = [key for table in tables.values() for key in table]
    assert len(keys) == len(set(keys))
    assert [key for key in keys if key not in served] == []


def test_native_posts_document_idempotency_key_and_loginradius_paths_do_not(operations):
    def documents_key(operation) -> bool:
        return any(
            p.get("in") == "header" and p.get("name") == "Idempotency-Key"
            for p in operation.get("parameters", [])
        )

    native_posts = [(m, p, o) for m, p, o in operations if m == "POST" and p.startswith("/api/v1/")]
    assert len(native_posts) > 10
    assert [p for _, p, o in native_posts if not documents_key(o)] == []
    others = [p for m, p, o in operations if not p.startswith("/api/v1/") and documents_key(o)]
    others += [p for m, p, o in operations if m != "POST" and documents_key(o)]
    assert others == []
