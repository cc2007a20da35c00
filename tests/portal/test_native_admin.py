"""Administration on the native API: `/api/v1/credentials` (list, create, rotate, revoke)
and `PATCH /api/v1/tenant` (settings by merge patch). Only a credential whose scopes name
`admin` reaches them; `GET /api/v1/tenant` stays open to any credential of the tenant."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.models import TENANT_SETTING_DEFAULTS, ApiCredential, AuditEvent, Tenant
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def admin(tenant):
    return LRClient(ApiCredentialFactory(tenant=tenant, scopes=["admin"], label="ops"))


@pytest.fixture
def other_admin(other_tenant):
    return LRClient(ApiCredentialFactory(tenant=other_tenant, scopes=["admin"]))


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code
    return response.json()


def patch(client, body, **headers):
    return client.client.patch(
        f"/api/v1/tenant?apikey={client.credential.tenant.api_key}",
        json.dumps(body),
        content_type="application/merge-patch+json",
        HTTP_X_LOGINRADIUS_APISECRET=client.credential.raw,
        **headers,
    )


def state():
    return (
        sorted(ApiCredential.objects.values_list("pk", "revoked_at", "expires_at", "scopes")),
        sorted(Tenant.objects.values_list("pk", "settings")),
        AuditEvent.objects.count(),
    )


def works(tenant, secret) -> bool:
    """Whether the secret authenticates (a scope refusal comes after authentication)."""
    client = LRClient(ApiCredentialFactory.build(tenant=tenant))
    client.credential.raw = secret
    response = client.get("/api/v1/tenant")
    if response.status_code == 200:
        return True
    assert response["Content-Type"].startswith(PROBLEM), response.content
    return response.json()["code"] == "credential.scope_refused"


# --- credentials ----------------------------------------------------------------------------


def test_create_answers_201_with_the_secret_once_and_it_works(admin, tenant):
    response = admin.post(
        "/api/v1/credentials",
        {"label": "billing", "scopes": ["accounts", "tokens"]},
        HTTP_X_REASON="new backend",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["secret"]
    assert body["label"] == "billing" and body["scopes"] == ["accounts", "tokens"]
    assert body["secret_hint"] == secret[-4:] and body["usable"] is True
    assert works(tenant, secret)
    listed = admin.get("/api/v1/credentials").json()
    assert secret not in json.dumps(listed)
    assert [row["label"] for row in listed["results"]] == ["ops", "billing"]
    assert "secret" not in listed["results"][1]
    event = AuditEvent.objects.get(action="credential.created")
    assert event.reason == "new backend" and secret not in json.dumps(event.diff)


def test_list_pages_by_cursor(admin, tenant):
    made = [ApiCredentialFactory(tenant=tenant, label=f"c{i}") for i in range(2)]
    first = admin.get("/api/v1/credentials", {"page_size": 2}).json()
    assert first["count"] == 3 and [r["label"] for r in first["results"]] == ["ops", "c0"]
    assert f"after={made[0].pk}" in first["next"]
    second = admin.get("/api/v1/credentials", {"page_size": 2, "after": made[0].pk}).json()
    assert [r["label"] for r in second["results"]] == ["c1"] and second["next"] is None


def test_create_refuses_bad_input_and_changes_nothing(admin):
    before = state()
    for body in (
        {"scopes": ["everything"]},
        {"scopes": "admin"},
        {"label": 7},
        {"expires_at": "soon"},
        {"expires_at": "2020-01-01T00:00:00Z"},
        {"requires_approval": "yes"},
        {"colour": "red"},
    ):
        problem(admin.post("/api/v1/credentials", body), 400, "input.invalid")
    assert state() == before


def test_rotate_returns_the_new_secret_once_and_the_old_keeps_its_overlap(admin, tenant):
    old = ApiCredentialFactory(tenant=tenant, label="crm", scopes=["accounts"])
    response = admin.post(
        f"/api/v1/credentials/{old.pk}/rotate", {"overlap_seconds": 0}, HTTP_X_REASON="yearly"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["label"] == "crm" and body["scopes"] == ["accounts"] and body["id"] != old.pk
    assert works(tenant, body["secret"])
    assert not works(tenant, old.raw)
    kept = ApiCredentialFactory(tenant=tenant, label="erp")
    admin.post(f"/api/v1/credentials/{kept.pk}/rotate", {}, HTTP_X_REASON="yearly")
    kept.refresh_from_db()
    assert kept.expires_at is not None and kept.expires_at > timezone.now() + timedelta(hours=23)


def test_rotate_needs_a_reason_a_sane_overlap_and_a_usable_credential(admin, tenant):
    old = ApiCredentialFactory(tenant=tenant)
    gone = ApiCredentialFactory(tenant=tenant, revoked_at=timezone.now())
    before = state()
    problem(admin.post(f"/api/v1/credentials/{old.pk}/rotate", {}), 400, "input.invalid")
    for overlap in (-1, "60", 10**9, True):
        problem(
            admin.post(
                f"/api/v1/credentials/{old.pk}/rotate",
                {"overlap_seconds": overlap},
                HTTP_X_REASON="r",
            ),
            400,
            "input.invalid",
        )
    problem(
        admin.post(f"/api/v1/credentials/{gone.pk}/rotate", {}, HTTP_X_REASON="r"),
        400,
        "input.invalid",
    )
    assert state() == before


def test_delete_revokes_now(admin, tenant):
    victim = ApiCredentialFactory(tenant=tenant)
    assert works(tenant, victim.raw)
    assert (
        admin.delete(f"/api/v1/credentials/{victim.pk}", HTTP_X_TICKET="SEC-1").status_code == 204
    )
    assert not works(tenant, victim.raw)
    assert AuditEvent.objects.get(action="credential.revoked").ticket == "SEC-1"
    row = next(
        r for r in admin.get("/api/v1/credentials").json()["results"] if r["id"] == victim.pk
    )
    assert row["revoked_at"].endswith("Z") and row["usable"] is False
    assert admin.delete(f"/api/v1/credentials/{victim.pk}").status_code == 204
    assert AuditEvent.objects.filter(action="credential.revoked").count() == 1


def test_another_tenants_credential_is_404(admin, other_admin, tenant):
    mine = ApiCredentialFactory(tenant=tenant)
    before = state()
    problem(other_admin.delete(f"/api/v1/credentials/{mine.pk}"), 404, "not_found")
    problem(
        other_admin.post(f"/api/v1/credentials/{mine.pk}/rotate", {}, HTTP_X_REASON="r"),
        404,
        "not_found",
    )
    problem(admin.delete("/api/v1/credentials/abc"), 404, "not_found")
    assert mine.pk not in [
        r["id"] for r in other_admin.get("/api/v1/credentials").json()["results"]
    ]
    assert state() == before


@pytest.mark.parametrize("scopes", [[], ["accounts", "roles", "native"]])
def test_credentials_need_an_explicit_admin_scope(tenant, scopes):
    caller = LRClient(ApiCredentialFactory(tenant=tenant, scopes=scopes))
    victim = ApiCredentialFactory(tenant=tenant)
    before = state()
    problem(caller.get("/api/v1/credentials"), 403, "credential.scope_refused")
    problem(caller.post("/api/v1/credentials", {"label": "x"}), 403, "credential.scope_refused")
    problem(caller.delete(f"/api/v1/credentials/{victim.pk}"), 403, "credential.scope_refused")
    problem(
        caller.post(f"/api/v1/credentials/{victim.pk}/rotate", {}, HTTP_X_REASON="r"),
        403,
        "credential.scope_refused",
    )
    assert state() == before


def test_unknown_query_parameters_are_400(admin):
    problem(admin.get("/api/v1/credentials", {"label": "x"}), 400, "input.invalid")


# --- the tenant -----------------------------------------------------------------------------


def test_get_tenant_stays_open_to_any_credential(lr, tenant):
    body = lr.get("/api/v1/tenant").json()
    assert body["slug"] == tenant.slug and set(body["settings"]) == set(TENANT_SETTING_DEFAULTS)


def test_patch_changes_named_settings_and_resets_null_ones(admin, tenant):
    tenant.settings = {"sms_otp_length": 8}
    tenant.save()
    response = patch(
        admin,
        {
            "settings": {
                "lockout_threshold": 3,
                "sms_otp_length": None,
                "request_signing": "strict",
                "password_required_character_classes": ["digit", "lowercase"],
                "profile_update_strict_keys": True,
            }
        },
        HTTP_X_REASON="stricter",
    )
    assert response.status_code == 200, response.content
    settings = response.json()["settings"]
    assert settings["lockout_threshold"] == 3 and settings["sms_otp_length"] == 6
    assert settings["password_required_character_classes"] == ["lowercase", "digit"]
    tenant.refresh_from_db()
    assert tenant.setting("request_signing") == "strict"
    assert tenant.setting("profile_update_strict_keys") is True
    event = AuditEvent.objects.get(action="tenant.updated")
    assert event.reason == "stricter"


def test_a_patch_that_changes_nothing_records_nothing(admin, tenant):
    response = patch(
        admin, {"settings": {"lockout_threshold": tenant.setting("lockout_threshold")}}
    )
    assert response.status_code == 200
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"settings": {"no_such_setting": 1}},
        {"settings": {"lockout_threshold": "5"}},
        {"settings": {"lockout_threshold": -1}},
        {"settings": {"lockout_threshold": True}},
        {"settings": {"password_common_check": "yes"}},
        {"settings": {"request_signing": "never"}},
        {"settings": {"password_min_length": 0}},
        {"settings": {"password_min_length": 40, "password_max_length": 20}},
        {"settings": {"password_required_character_classes": ["emoji"]}},
        {"settings": ["lockout_threshold"]},
        {"name": "Renamed"},
        {"plan": "gold"},
        [],
    ],
)
def test_patch_refuses_bad_settings_and_changes_nothing(admin, body):
    before = state()
    problem(patch(admin, body), 400, "input.invalid")
    assert state() == before


@pytest.mark.parametrize("scopes", [[], ["native"], ["accounts", "security"]])
def test_patch_needs_an_explicit_admin_scope(tenant, scopes):
    caller = LRClient(ApiCredentialFactory(tenant=tenant, scopes=scopes))
    before = state()
    problem(patch(caller, {"settings": {"lockout_threshold": 2}}), 403, "credential.scope_refused")
    assert state() == before


def test_patch_touches_only_the_callers_tenant(other_admin, tenant):
    before = tenant.settings
    patch(other_admin, {"settings": {"lockout_threshold": 2}})
    tenant.refresh_from_db()
    assert tenant.settings == before


def test_patch_refuses_unknown_query_parameters(admin):
    before = state()
    response = admin.client.patch(  # `fields` is declared (it projects the answer): not `colour`
        f"/api/v1/tenant?apikey={admin.credential.tenant.api_key}&fields=name&colour=red",
        json.dumps({"settings": {"lockout_threshold": 2}}),
        content_type="application/merge-patch+json",
        HTTP_X_LOGINRADIUS_APISECRET=admin.credential.raw,
    )
    body = problem(response, 400, "input.invalid")
    assert [error["field"] for error in body["errors"]] == ["colour"]
    assert state() == before
