"""Every named domain error can be answered by every front door: the LoginRadius envelope,
RFC 9457 problem details and a console sentence; and services stay free of the wire."""

import ast
import json
import re
from pathlib import Path

import pytest
from rest_framework.exceptions import APIException

from portal import errors as e
from portal.api.problems import KIND_STATUS, PROBLEM_MEDIA_TYPE, problem_for, problem_response
from portal.console.errors import SERVICE_ERRORS
from portal.lrapi.domain_errors import lr_error, lr_mapping
from portal.lrapi.errors import CODES
from portal.lrapi.exceptions import exception_handler

# Constructor arguments of the errors that need some; every other one is built bare.
EXAMPLES: dict[type[e.DomainError], tuple] = {
    e.FieldRequired: ("objectname",),
    e.InvalidValue: ("cursor", "The cursor is not valid."),
    e.RoleNotInContext: ("editor",),
    e.CustomObjectRecordChanged: ('"3-abc"',),
    e.RateLimited: (30,),
}

REGISTERED = sorted(e.REGISTRY.values(), key=lambda cls: cls.code)


def example(cls: type[e.DomainError]) -> e.DomainError:
    return cls(*EXAMPLES.get(cls, ()))


def lr_body(error: e.DomainError):
    response = exception_handler(error, {"request": None})
    return response, response.data


def test_codes_are_stable_dotted_names_registered_once():
    assert REGISTERED
    for cls in REGISTERED:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", cls.code), cls
        assert e.REGISTRY[cls.code] is cls
    with pytest.raises(ValueError, match="registered twice"):
        e.register(type("Again", (e.DomainError,), {"code": "role.not_found"}))


def test_domain_errors_are_plain_exceptions_not_drf_ones():
    assert not issubclass(e.DomainError, APIException)
    assert e.DomainError in SERVICE_ERRORS


@pytest.mark.parametrize("cls", REGISTERED, ids=lambda cls: cls.code)
def test_every_error_has_a_loginradius_mapping(cls):
    assert lr_mapping(cls) is not None, (
        f"{cls.__name__} has no row in portal.lrapi.domain_errors.LR_MAPPING"
    )
    error = example(cls)
    answer = lr_error(error)
    assert answer.error_code in CODES
    response, body = lr_body(error)
    assert response.status_code == CODES[answer.error_code].status
    assert body["ErrorCode"] == answer.error_code
    assert body["Message"] == CODES[answer.error_code].message
    assert isinstance(body["Description"], str) and body["Description"]
    assert (body["IsProviderError"], body["ProviderErrorResponse"]) == (False, None)


@pytest.mark.parametrize("cls", REGISTERED, ids=lambda cls: cls.code)
def test_every_error_renders_as_problem_details(cls):
    error = example(cls)
    problem = problem_for(error, instance="/api/v1/x")
    assert problem.status == KIND_STATUS[cls.kind]
    assert problem.body["type"].endswith(cls.code)
    assert problem.body["title"] == cls.title and problem.body["title"] != e.DomainError.title
    assert (problem.body["status"], problem.body["detail"], problem.body["code"]) == (
        problem.status,
        error.message,
        cls.code,
    )
    assert problem.body["instance"] == "/api/v1/x"
    if error.field_errors:
        assert problem.body["errors"] == [
            {"field": f.field, "message": f.message, "code": f.code} for f in error.field_errors
        ]
    else:
        assert "errors" not in problem.body


@pytest.mark.parametrize("cls", REGISTERED, ids=lambda cls: cls.code)
def test_every_error_has_a_console_sentence(cls):
    sentence = example(cls).sentence()
    assert sentence and sentence[0].isupper() and sentence.endswith("."), sentence
    assert cls.default_message != e.DomainError.default_message


# The wire answers the call sites gave before they raised domain errors.
@pytest.mark.parametrize(
    ("error", "code", "status", "description"),
    [
        (e.RoleNotFound(), 1047, 400, "The role does not exist, please use a valid role."),
        (e.RoleNotFound("x" * 120), 1047, 400, f"The role '{'x' * 100}' does not exist."),
        (
            e.RoleNotInContext("editor"),
            1047,
            400,
            "The role 'editor' does not exist in this role context.",
        ),
        (e.RoleNameTaken(), 1175, 400, "The role name is not valid or already exists."),
        (
            e.RoleNameInvalid("The same role name appears more than once."),
            1175,
            400,
            "The same role name appears more than once.",
        ),
        (e.RoleContextNotFound(), 1133, 400, "The role context does not exist for this user."),
        (e.RoleContextNameInvalid(), 1133, 400, "The role context name is not valid."),
        (
            e.PermissionNotFound(),
            1142,
            400,
            "The additional permission does not exist in this role context.",
        ),
        (e.AccountNotFound(), 938, 403, CODES[938].description),
        (e.FieldRequired("objectname"), 908, 400, "The objectname is a required parameter."),
        (
            e.FieldRequired("Roles", "The value of Roles can not be null or empty."),
            908,
            400,
            "The value of Roles can not be null or empty.",
        ),
        (e.CustomObjectsNotConfigured(), 999, 400, CODES[999].description),
        (e.CustomObjectTypeNotFound(), 1064, 400, CODES[1064].description),
        (e.CustomObjectRecordNotFound(), 1057, 404, CODES[1057].description),
        (e.CustomObjectRecordIdInvalid(), 995, 400, CODES[995].description),
        (e.CustomObjectRecordIdTaken(), 995, 400, "A record with this id already exists."),
        (e.CustomObjectNotAnObject(), 1035, 400, CODES[1035].description),
        (
            e.CustomObjectTooLarge("The custom object takes 9 bytes."),
            1002,
            400,
            "The custom object takes 9 bytes.",
        ),
    ],
)
def test_loginradius_bodies_are_the_ones_the_services_answered_before(
    error, code, status, description
):
    response, body = lr_body(error)
    assert (response.status_code, body["ErrorCode"], body["Description"]) == (
        status,
        code,
        description,
    )
    assert "Errors" not in body


def test_invalid_input_lists_its_fields_as_loginradius_errors():
    error = e.CustomObjectDataInvalid(
        field_errors=[e.FieldError("/age", "-1 is less than 0", "minimum")]
    )
    response, body = lr_body(error)
    assert (response.status_code, body["ErrorCode"], body["Description"]) == (
        400,
        1134,
        CODES[1134].description,
    )
    assert body["Errors"] == [{"FieldName": "/age", "ErrorMessage": "-1 is less than 0"}]
    assert (
        error.sentence()
        == "The custom object does not match the schema of its type. -1 is less than 0"
    )


def test_a_changed_record_answers_412_with_its_current_etag():
    response, body = lr_body(e.CustomObjectRecordChanged('"7-ff"'))
    assert (response.status_code, body["ErrorCode"], response["ETag"]) == (412, 9412, '"7-ff"')


def test_retry_after_reaches_both_wire_formats():
    error = e.RoleNotFound()
    error.retry_after = 30
    response, _ = lr_body(error)
    assert response["Retry-After"] == "30"
    assert problem_response(error)["Retry-After"] == "30"


def test_problem_response_is_served_as_problem_json():
    response = problem_response(
        e.InvalidValue("limit", "The limit must be a whole number."), instance="/api/v1/x"
    )
    assert (response.status_code, response["Content-Type"]) == (400, PROBLEM_MEDIA_TYPE)
    assert json.loads(response.content) == {
        "type": "urn:portal:problem:input.invalid_value",
        "title": "A value is not acceptable",
        "status": 400,
        "detail": "The limit must be a whole number.",
        "code": "input.invalid_value",
        "instance": "/api/v1/x",
        "errors": [
            {"field": "limit", "message": "The limit must be a whole number.", "code": "invalid"}
        ],
    }


def test_an_unmapped_error_answers_by_its_kind_not_with_a_500(caplog):
    unmapped = type(
        "Unmapped",
        (e.DomainError,),
        {"code": "test.unmapped", "kind": e.Kind.NOT_FOUND, "default_message": "Nothing here."},
    )
    response, body = lr_body(unmapped())
    assert (response.status_code, body["ErrorCode"], body["Description"]) == (
        404,
        404,
        "Nothing here.",
    )
    assert "has no LoginRadius mapping" in caplog.text


ROOT = Path(__file__).resolve().parents[2]
WIRE_FREE = [
    *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "roles" / "services").glob("*.py")),
    "roles/selectors.py",
    "customobjects/services.py",
    "customobjects/selectors.py",
    "customobjects/validation.py",
]


@pytest.mark.parametrize("path", WIRE_FREE)
def test_services_do_not_depend_on_the_wire_layer(path):
    tree = ast.parse((ROOT / path).read_text())
    modules = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    modules += [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    assert not [
        m for m in modules if m and (m.startswith("portal.lrapi") or m.startswith("rest_framework"))
    ]
