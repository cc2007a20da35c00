"""Schemathesis against the project's own OpenAPI schema (/api/schema/): every operation,
positive and negative examples, with a valid credential of a fresh tenant. Bounded for CI:
HARDENING_FUZZ_EXAMPLES examples per operation (default 3), no per-example deadline.

Checks: no server error, documented status codes, documented content types, and the
response body matches the documented schema.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import AccountFactory

EXAMPLES = int(os.environ.get("HARDENING_FUZZ_EXAMPLES", "3"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
if os.environ.get("HARDENING_FUZZ_STRICT") == "1":
    from schemathesis.specs.openapi.checks import negative_data_rejection

    CHECKS.append(negative_data_rejection)
# Header names whose generated values would replace the test's credential.
AUTH_HEADERS = {
    "x-loginradius-apikey",
    "x-loginradius-apisecret",
    "authorization",
    "digest",
    "x-request-expires",
}
AUTH_QUERY = {"apikey", "apisecret", "key", "secret", "client_id", "client_secret"}


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def fuzz_caller(tenant, credential, settings):
    settings.RATE_LIMIT_AUTH_FAILURES_PER_IP = 0
    account = AccountFactory(tenant=tenant)
    # The WSGI app runs inside the test's transaction: like Django's test client, keep the
    # request signals from closing the connection between requests.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield {"tenant": tenant, "credential": credential, "account": account}
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def authorise(case, caller) -> None:
    tenant, credential = caller["tenant"], caller["credential"]
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in AUTH_HEADERS}
    headers["X-LoginRadius-ApiSecret"] = credential.raw
    case.headers = headers
    query = {k: v for k, v in (case.query or {}).items() if k.lower() not in AUTH_QUERY}
    # `fields` projects the response to the named keys, which a JSON Schema of the full
    # response cannot describe; projection has its own tests (tests/portal/test_params.py).
    query = {k: v for k, v in query.items() if k.lower() != "fields"}
    query["apikey"] = tenant.api_key
    case.query = query


@pytest.mark.timeout(900)
@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
@pytest.mark.django_db
def test_api_conforms_to_its_schema(case, fuzz_caller):
    authorise(case, fuzz_caller)
    case.call_and_validate(checks=CHECKS)
