"""Access matrix generated from the URL configuration.

Every API route is called, for each HTTP method its view answers, as anonymous, with a
wrong secret, with another tenant's credential naming this tenant's objects, and with a
credential scoped away from the view's section; every console route as anonymous, as
staff without access to the tenant, and as a Viewer on writes. Each call must be refused
(or, for the other tenant, answer only about its own data) and change nothing. A route
that none of the families covers fails the test.
"""

import json

import pytest
from django.apps import apps
from django.test import Client
from rest_framework.test import APIClient

from accounts.commands import AccountDelete
from approvals.commands import ApprovalRequestCreate
from approvals.services import approval_request
from customobjects.models import CustomObjectRecord, CustomObjectType
from jobs.models import Job
from portal.api.native import NativeAPIView
from portal.audit import Actor
from portal.lrapi.views import LRAPIView
from portal.models import ApiCredential, AuditEvent
from roles.models import Role
from tests.factories import AccountFactory, ApiCredentialFactory
from tests.hardening.routes import PUBLIC_ROUTES, Route, all_routes
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

WRONG_SECRET = "00000000-0000-4000-8000-000000000000"
# Refusals the matrix accepts: missing/unknown key or secret, scope, unknown user/token.
REFUSAL_CODES = {404, 405, 901, 902, 905, 906, 908, 920, 921, 922, 923, 938, 1060, 1143}
# "Not found" as the other tenant sees this tenant's objects: no such role, custom objects
# not configured / unknown object name, unknown record.
NOT_FOUND_CODES = {1047, 999, 1064, 995}
# Path parameters that name one of this tenant's objects.
TENANT_OBJECT_PARAMS = {
    "uid",
    "role",
    "objectrecordid",
    "record_id",
    "objectname",
    "name",
    "passkey_id",
    "provider_id",
    "job_id",
    "request_id",
    "event_id",
}
# Key-only routes (auth_mode "apikey") and end-user routes (auth_mode "access_token") are
# not management routes: their secret is the token, OTP or password in the request, so
# "wrong secret" and "scoped credential" do not apply to them.
KEY_ONLY_MODES = ("apikey", "access_token")
# Console POST routes that change no tenant data, with the reason they may succeed.
CONSOLE_NON_WRITES = {
    "console/login/": "signs the caller in (own credentials)",
    "console/login/verify/": "second factor of the caller's own sign-in",
    "console/login/enrol/": "enrols the caller's own second factor",
    "console/logout/": "ends the caller's own session",
    "console/tenant/switch/": "selects the tenant shown; access is checked on every view",
}
# Console POSTs a Viewer may make because they read: the search forms post their text so
# it stays out of URLs and logs, and a reveal shows personal data with a recorded reason.
CONSOLE_VIEWER_READS = {
    "console/accounts/": "the search form: the typed text goes to the caller's session",
    "console/accounts/typeahead/": "typeahead matches for the typed text",
    "console/accounts/<slug:slug>/<str:uid>/reveal/": "shows the masked values once; "
    "records account.personal_data_revealed and changes no account",
}
# Where a response may legitimately mention a seeded value (it echoes the request).
ECHOING_ROUTES: dict[tuple[str, str], str] = {
    (
        "post",
        "identity/v2/manage/account",
    ): "creates an account in the caller's own tenant from the body and echoes it",
}
# Console routes an outsider may use because they touch no existing tenant's data.
CONSOLE_GLOBAL_WRITES = {
    (
        "post",
        "console/tenants/",
    ): "creates a new tenant (platform Admin action); no existing tenant is touched",
}


@pytest.fixture
def world(tenant, other_tenant):
    account = AccountFactory(
        tenant=tenant, email="matrix-owner@example.com", phone_id="+14155550100"
    )
    other_account = AccountFactory(tenant=other_tenant, email="matrix-other@example.com")
    credential = ApiCredentialFactory(tenant=tenant)
    other_credential = ApiCredentialFactory(tenant=other_tenant)
    role = Role.objects.create(tenant=tenant, name="matrixrole", permissions=["matrix.read"])
    object_type = CustomObjectType.objects.create(tenant=tenant, name="matrixobj")
    record = CustomObjectRecord.objects.create(
        tenant=tenant, object_type=object_type, account=account, data={"k": "v"}
    )
    values = {
        "uid": account.uid,
        "role": role.name,
        "context_name": "matrixcontext",
        "objectrecordid": record.record_id,
        "record_id": record.record_id,
        "objectname": object_type.name,
        "name": object_type.name,
        "passkey_id": "matrix-passkey",
        "tokentype": "emailverification",
        "smsotptype": "phoneverification",
        "provider": "facebook",
        "provider_id": "matrix-provider-id",
        "slug": tenant.slug,
        "pk": credential.pk,
        "credential_id": credential.pk,
        "session_id": "1",
        "kind": "totp",
        "message_id": "1",
        "action": "block",
        "op": "create",
        "webhook_id": WebhookEndpoint.objects.create(
            tenant=tenant, url="https://hooks.example.com/matrix", events=["*"]
        ).pk,
        "job_id": Job.objects.create(
            tenant=tenant, action="unblock", command={}, reason="matrix", actor_type="system"
        ).pk,
        "request_id": approval_request(
            ApprovalRequestCreate(
                gate="account.delete",
                command=AccountDelete(reason="matrix").to_json(seal=True),
                account_uid=account.uid,
                reason="matrix",
            ),
            tenant=tenant,
            actor=Actor.credential(credential),
        ).pk,
        "email": "matrix-owner@example.com",
        # An event of this tenant's account that changed a restorable field.
        "event_id": AuditEvent.objects.create(
            tenant=tenant,
            action="account.updated",
            actor_type="system",
            subject_uid=account.uid,
            diff={"FirstName": ["Matrix", "Changed"]},
        ).pk,
        "field": "FirstName",
    }
    return {
        "tenant": tenant,
        "other_tenant": other_tenant,
        "account": account,
        "other_account": other_account,
        "credential": credential,
        "other_credential": other_credential,
        "values": values,
        "object_type": object_type,
        "secrets": [account.uid, "matrix-owner@example.com", record.record_id],
    }


# Console write routes that take an operation or action name: every one is tried.
CONSOLE_OPS = {
    "action": ("block", "unblock", "lock", "unlock", "delete", "password", "sessions"),
    "op": ("create", "edit", "delete", "add_permissions", "remove_permissions"),
}


def route_values(world, route: Route, **overrides) -> dict:
    values = dict(world["values"])
    if route.route.startswith("console/custom-objects/"):
        values["pk"] = world["object_type"].pk
    values.update(overrides)
    return values


def tenant_rows(state: dict, tenant) -> dict[str, list]:
    """The rows of `state` that belong to `tenant` (and the tenant row itself)."""
    mine = {}
    for label, rows in state.items():
        decoded = json.loads(rows)
        if label == "portal.Tenant":
            mine[label] = [r for r in decoded if r.get("id") == tenant.pk]
        else:
            mine[label] = [r for r in decoded if r.get("tenant_id") == tenant.pk]
    return mine


def snapshot() -> dict[str, object]:
    """Every row of every model (credential use timestamps aside)."""
    state = {}
    for model in apps.get_models():
        rows = list(model.objects.order_by("pk").values())
        if model is ApiCredential:
            for row in rows:
                row.pop("last_used_at", None)
        state[model._meta.label] = json.dumps(rows, default=str, sort_keys=True)
    return state


def changed(before, after) -> list[str]:
    return [label for label in before if before[label] != after.get(label)]


def query_and_body(world) -> tuple[dict, dict]:
    account = world["account"]
    query = {
        "uid": account.uid,
        "email": "matrix-owner@example.com",
        "phone": "+14155550100",
        "access_token": "matrix-not-a-token",
        "role": "matrixrole",
    }
    body = {
        "uid": account.uid,
        "Email": [{"Type": "Primary", "Value": "matrix-owner@example.com"}],
        "FirstName": "Changed",
        "Password": "Matrix-passw0rd!",
        "roles": ["matrixrole"],
    }
    return query, body


def call_api(client: APIClient, method: str, path: str, query: dict, body: dict, **headers):
    from urllib.parse import urlencode

    url = f"{path}?{urlencode(query)}" if query else path
    if method in ("get",):
        return client.get(url, **headers)
    return getattr(client, method)(url, body, format="json", **headers)


def lr_code(response) -> int | None:
    try:
        body = response.json()
    except (ValueError, TypeError):
        return None
    if not isinstance(body, dict):
        return None
    if "ErrorCode" not in body and "errorCode" not in body and "code" in body:
        return problem_lr_code(body["code"])
    return body.get("ErrorCode", body.get("errorCode"))


def problem_lr_code(code: str) -> int | None:
    """The LoginRadius code a native problem's `code` stands for, so one table of refusal
    codes judges both front doors."""
    from portal import errors
    from portal.api.native import LOGINRADIUS_PROBLEM_CODES
    from portal.lrapi.domain_errors import lr_error

    if code.startswith("loginradius."):
        return int(code.removeprefix("loginradius."))
    for lr_code_, problem_code in LOGINRADIUS_PROBLEM_CODES.items():
        if problem_code == code:
            return lr_code_
    error_class = errors.REGISTRY.get(code)
    return lr_error(error_class()).error_code if error_class else None


def refused(response, codes=REFUSAL_CODES) -> bool:
    return response.status_code in (401, 403, 404, 405, 400) and lr_code(response) in codes


def api_routes() -> list[Route]:
    return [r for r in all_routes() if r.family == "api"]


def test_every_route_is_classified():
    unclassified = [
        f"/{r.route} ({r.view_class or r.callback})"
        for r in all_routes()
        if r.family == "unclassified"
    ]
    assert not unclassified, "routes missing from the access matrix: " + ", ".join(unclassified)
    for route in api_routes():
        assert route.view_class.section, (
            f"/{route.route}: {route.view_class.__name__} declares no section"
        )
    for route_name, reason in PUBLIC_ROUTES.items():
        assert reason and any(r.route == route_name for r in all_routes()), route_name


def test_every_path_parameter_has_a_value(world):
    missing = [
        f"/{r.route}: {p}"
        for r in all_routes()
        if r.family in ("api", "console")
        for p in r.params
        if p not in route_values(world, r)
    ]
    assert not missing, "path parameters the access matrix has no value for: " + ", ".join(missing)


def query_for(route, query: dict) -> dict:
    """A native resource refuses query parameters it does not declare (400) before it looks
    at the tenant or the scopes; it is called with the ones it declares, so the matrix sees
    its answer to the caller."""
    if not issubclass(route.view_class, NativeAPIView):
        return query
    declared = set(route.view_class.query_parameters)
    return {name: value for name, value in query.items() if name in declared}


def _run(world, callers, *, expect_refusal, check_leak=False, codes=REFUSAL_CODES):
    failures = []
    query, body = query_and_body(world)
    before = snapshot()
    for route in api_routes():
        path = route.path(world["values"])
        route_query = query_for(route, query)
        for method in route.methods:
            for label, make_call in callers(route):
                if make_call is None:
                    continue
                response = make_call(method, path, route_query, body)
                status = response.status_code
                if status >= 500:
                    failures.append(
                        f"{label} {method.upper()} {path}: {status} {response.content[:200]!r}"
                    )
                elif expect_refusal(route) and not refused(response, codes):
                    failures.append(
                        f"{label} {method.upper()} {path}: {status} code={lr_code(response)} {response.content[:200]!r}"
                    )
                elif check_leak and status < 300:
                    text = response.content.decode(errors="replace")
                    leaked = [s for s in world["secrets"] if s in text]
                    if leaked and (method, route.route) not in ECHOING_ROUTES:
                        failures.append(f"{label} {method.upper()} {path}: {status} leaks {leaked}")
    after = snapshot()
    return failures, changed(before, after)


def test_api_anonymous(world):
    def callers(route):
        return [
            (
                "anonymous",
                lambda m, p, q, b: call_api(
                    APIClient(), m, p, {k: v for k, v in q.items() if k != "access_token"}, b
                ),
            )
        ]

    failures, modified = _run(world, callers, expect_refusal=lambda r: True)
    assert not failures, "\n".join(failures)
    assert not modified, modified


def test_api_wrong_secret(world):
    key = world["tenant"].api_key

    def callers(route):
        if route.view_class.auth_mode in KEY_ONLY_MODES:
            return [("key-only", None)]
        return [
            (
                "wrong secret header",
                lambda m, p, q, b: call_api(
                    APIClient(),
                    m,
                    p,
                    {**q, "apikey": key},
                    b,
                    HTTP_X_LOGINRADIUS_APISECRET=WRONG_SECRET,
                ),
            ),
            (
                "wrong secret query",
                lambda m, p, q, b: call_api(
                    APIClient(),
                    m,
                    p,
                    {
                        **q,
                        "apikey": key,
                        "apisecret": WRONG_SECRET,
                        "key": key,
                        "secret": WRONG_SECRET,
                    },
                    b,
                ),
            ),
        ]

    failures, modified = _run(world, callers, expect_refusal=lambda r: True)
    assert not failures, "\n".join(failures)
    assert not modified, modified


def test_api_other_tenant_credential_with_this_tenants_ids(world):
    other = world["other_credential"]

    def callers(route):
        return [
            (
                "other tenant",
                lambda m, p, q, b: call_api(
                    APIClient(),
                    m,
                    p,
                    {**q, "apikey": other.tenant.api_key},
                    b,
                    HTTP_X_LOGINRADIUS_APISECRET=other.raw,
                ),
            )
        ]

    tenant = world["tenant"]
    before_rows = {label: rows for label, rows in snapshot().items()}
    failures, _ = _run(
        world,
        callers,
        expect_refusal=lambda r: bool(TENANT_OBJECT_PARAMS & set(r.params)),
        check_leak=True,
        codes=REFUSAL_CODES | NOT_FOUND_CODES,
    )
    after_rows = snapshot()
    assert not failures, "\n".join(failures)
    # This tenant's rows are untouched (the other tenant may change its own).
    mine_before, mine_after = tenant_rows(before_rows, tenant), tenant_rows(after_rows, tenant)
    tenant_changes = [label for label in mine_before if mine_before[label] != mine_after[label]]
    assert not tenant_changes, tenant_changes


def test_api_credential_scoped_away_from_the_section(world):
    tenant = world["tenant"]
    scoped = {}
    for section in ApiCredential.SECTIONS:
        away = "native" if section != "native" else "accounts"
        cred = ApiCredentialFactory(tenant=tenant, scopes=[away])
        scoped[section] = cred

    # The event feed reaches whoever may read some event type: away from it is a
    # credential of a section that has none (native).
    no_events = ApiCredentialFactory(tenant=tenant, scopes=["native"])

    def callers(route):
        if route.view_class.auth_mode in KEY_ONLY_MODES:
            return [("key-only", None)]
        custom = route.view_class.principal_allowed is not LRAPIView.principal_allowed
        # The tenant is read by its own section or an admin credential: away is another section.
        if custom and route.view_class.__name__ != "TenantView":
            cred = no_events
        else:
            cred = scoped[route.view_class.section]
        return [
            (
                "scoped away",
                lambda m, p, q, b: call_api(
                    APIClient(),
                    m,
                    p,
                    {**q, "apikey": tenant.api_key},
                    b,
                    HTTP_X_LOGINRADIUS_APISECRET=cred.raw,
                ),
            )
        ]

    failures, modified = _run(world, callers, expect_refusal=lambda r: True)
    assert not failures, "\n".join(failures)
    assert not modified, modified
    # Scoped calls are refused with exactly 1143.
    route = next(r for r in api_routes() if r.route == "identity/v2/manage/account/<str:uid>")
    cred = scoped["accounts"]
    response = call_api(
        APIClient(),
        "get",
        route.path(world["values"]),
        {"apikey": tenant.api_key},
        {},
        HTTP_X_LOGINRADIUS_APISECRET=cred.raw,
    )
    assert lr_code(response) == 1143 and response.status_code == 403


# ---- console ---------------------------------------------------------------------------


def console_routes() -> list[Route]:
    return [r for r in all_routes() if r.family == "console"]


def _console_calls(world, *, every_op=False):
    for route in console_routes():
        for method in route.methods:
            op_params = (
                [p for p in route.params if p in CONSOLE_OPS]
                if every_op and method == "post"
                else []
            )
            if op_params:
                for name in CONSOLE_OPS[op_params[0]]:
                    yield (
                        route,
                        method,
                        route.path(route_values(world, route, **{op_params[0]: name})),
                    )
            else:
                yield route, method, route.path(route_values(world, route))


def _post_data(world):
    return {
        "reason": "matrix",
        "confirmed": "True",
        "name": "Evil",
        "label": "x",
        "overlap_hours": 0,
        "user": "nobody",
        "permissions": ["view_accounts"],
        "tenant": world["tenant"].pk,
        "lockout_threshold": 1,
    }


def test_console_anonymous(world):
    failures = []
    before = snapshot()
    for route, method, path in _console_calls(world):
        response = getattr(Client(), method)(path, _post_data(world) if method == "post" else None)
        if route.route in CONSOLE_NON_WRITES:
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {path}: {response.status_code}")
            continue
        redirected_to_login = (
            response.status_code == 302 and "/console/login/" in response["Location"]
        )
        if not (redirected_to_login or response.status_code in (401, 403, 404, 405)):
            failures.append(f"{method.upper()} {path}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert not changed(before, snapshot())


def test_console_staff_without_access_to_the_tenant(world, make_staff, console_client):
    outsider = make_staff("Admin", world["other_tenant"])
    client = console_client(outsider)
    failures = []
    before = snapshot()
    # Selecting this tenant is refused or ignored; every later call acts on the outsider's own.
    client.post("/console/tenant/switch/", {"tenant": world["tenant"].pk})
    for route, method, path in _console_calls(world, every_op=True):
        if route.route in CONSOLE_NON_WRITES or (method, route.route) in CONSOLE_GLOBAL_WRITES:
            continue
        response = getattr(client, method)(path, _post_data(world) if method == "post" else None)
        status = response.status_code
        names_tenant = bool({"slug", "uid"} & set(route.params)) or (
            route.route.startswith("console/custom-objects/") and "pk" in route.params
        )
        if status >= 500:
            failures.append(f"{method.upper()} {path}: {status}")
        elif names_tenant and status not in (403, 404):
            failures.append(f"{method.upper()} {path}: {status} (expected 403/404)")
        elif status == 200:
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            text = raw.decode(errors="replace")
            leaked = [s for s in world["secrets"] if s in text]
            if leaked:
                failures.append(f"{method.upper()} {path}: shows {leaked}")
    assert not failures, "\n".join(failures)
    mine_before, mine_after = (
        tenant_rows(before, world["tenant"]),
        tenant_rows(snapshot(), world["tenant"]),
    )
    modified = [label for label in mine_before if mine_before[label] != mine_after[label]]
    assert not modified, modified


def test_console_viewer_cannot_write(world, make_staff, console_client):
    from portal import staff

    viewer = make_staff("Viewer", world["tenant"], perms=list(staff.TENANT_PERMISSIONS))
    client = console_client(viewer)
    client.post("/console/tenant/switch/", {"tenant": world["tenant"].pk})
    assert client.get("/console/roles/").status_code == 200  # the Viewer reads this tenant
    failures = []
    before = snapshot()
    for route, method, path in _console_calls(world, every_op=True):
        if method != "post" or route.route in CONSOLE_NON_WRITES:
            continue
        response = client.post(path, _post_data(world))
        if route.route in CONSOLE_VIEWER_READS:
            if response.status_code >= 500:
                failures.append(f"POST {path}: {response.status_code}")
            continue
        if response.status_code not in (403, 404, 405):
            failures.append(f"POST {path}: {response.status_code}")
    assert not failures, "\n".join(failures)
    modified = [m for m in changed(before, snapshot()) if m not in ("sessions.Session",)]
    # The reveal's own event is the one row a Viewer's POSTs may add.
    recorded = AuditEvent.objects.exclude(
        pk__in=[row["id"] for row in json.loads(before["portal.AuditEvent"])]
    )
    assert {e.action for e in recorded} <= {"account.personal_data_revealed"}
    if modified == ["portal.AuditEvent"]:
        modified = []
    assert not modified, modified


def test_admin_requires_sign_in(world):
    failures = []
    values = {
        "object_id": "1",
        "app_label": "portal",
        "content_type_id": "1",
        "url": "x",
        "id": "1",
        "pk": "1",
    }
    for route in (r for r in all_routes() if r.family == "admin"):
        try:
            path = route.path({p: values.get(p, "1") for p in route.params})
        except KeyError:
            continue
        if "(?P" in route.route or "^" in route.route:
            continue
        response = Client().get(path)
        ok = response.status_code in (302, 404) or route.route in (
            "admin/login/",
            "admin/logout/",
            "admin/jsi18n/",
        )
        if response.status_code == 302:
            ok = "/admin/login/" in response["Location"] or route.route.endswith(("logout/",))
            # The admin's login address sends everyone to the console sign-in.
            ok = ok or (
                route.route == "admin/login/" and response["Location"].startswith("/console/login/")
            )
        if not ok:
            failures.append(f"GET {path}: {response.status_code}")
    assert not failures, "\n".join(failures)
