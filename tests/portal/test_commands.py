"""tenant_create, credential_rotate and credential_revoke, checked against the API."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from freezegun import freeze_time

from portal.models import ApiCredential, AuditEvent, Tenant
from portal.tenant_commands import TenantSettingsChange
from tests.portal.conftest import LR_PING

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _tenant_call(api, key, secret):
    return api.get(
        "/api/v1/tenant", HTTP_X_LOGINRADIUS_APIKEY=key, HTTP_X_LOGINRADIUS_APISECRET=secret
    )


def _ping(api, key, secret):
    """A LoginRadius management call: its refusals keep the LoginRadius `ErrorCode`."""
    return api.get(LR_PING, HTTP_X_LOGINRADIUS_APIKEY=key, HTTP_X_LOGINRADIUS_APISECRET=secret)


def test_tenant_create_json_output_works_against_the_api(api):
    created = json.loads(_run("tenant_create", "Acme Corp", "--json"))
    assert set(created) >= {"api_key", "api_secret"}
    tenant = Tenant.objects.get(api_key=created["api_key"])
    assert tenant.name == "Acme Corp" and tenant.slug == "acme-corp"
    response = _tenant_call(api, created["api_key"], created["api_secret"])
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Acme Corp"
    stored = ApiCredential.objects.get(tenant=tenant)
    assert created["api_secret"] not in (stored.secret_encrypted, stored.secret_hash)
    assert set(AuditEvent.objects.filter(tenant=tenant).values_list("action", flat=True)) == {
        "tenant.created",
        "credential.created",
    }


def test_tenant_create_human_output_and_unique_slugs():
    first = _run("tenant_create", "Acme")
    assert "API key:" in first and "API secret:" in first
    _run("tenant_create", "Acme")
    assert sorted(Tenant.objects.values_list("slug", flat=True)) == ["acme", "acme-2"]


def test_rotate_keeps_the_old_secret_until_the_overlap_ends(api):
    created = json.loads(_run("tenant_create", "Rot", "--json"))
    rotated = json.loads(_run("credential_rotate", "rot", "--overlap-hours", "2", "--json"))
    assert (
        rotated["api_key"] == created["api_key"] and rotated["api_secret"] != created["api_secret"]
    )
    assert _ping(api, created["api_key"], created["api_secret"]).status_code == 200
    assert _ping(api, created["api_key"], rotated["api_secret"]).status_code == 200
    with freeze_time(timezone.now() + timedelta(hours=2, minutes=1)):
        assert _ping(api, created["api_key"], created["api_secret"]).json()["ErrorCode"] == 902
        assert _ping(api, created["api_key"], rotated["api_secret"]).status_code == 200


def test_rotate_with_zero_overlap_revokes_now(api):
    created = json.loads(_run("tenant_create", "Now", "--json"))
    rotated = json.loads(
        _run("credential_rotate", created["api_key"], "--overlap-hours", "0", "--json")
    )
    assert _ping(api, created["api_key"], created["api_secret"]).json()["ErrorCode"] == 902
    assert _ping(api, created["api_key"], rotated["api_secret"]).status_code == 200
    assert AuditEvent.objects.filter(action="credential.revoked").count() == 1


def test_rotate_unknown_tenant_fails():
    with pytest.raises(CommandError):
        _run("credential_rotate", "nope")


def test_revoke_by_id_takes_effect_immediately(api):
    created = json.loads(_run("tenant_create", "Rev", "--json"))
    assert _ping(api, created["api_key"], created["api_secret"]).status_code == 200
    credential = ApiCredential.objects.get(tenant__api_key=created["api_key"])
    output = _run("credential_revoke", str(credential.pk))
    assert "Revoked" in output
    assert _ping(api, created["api_key"], created["api_secret"]).json()["ErrorCode"] == 902
    _run("credential_revoke", str(credential.pk))  # idempotent: one audit event
    assert AuditEvent.objects.filter(action="credential.revoked").count() == 1


def test_revoke_unknown_id_fails():
    with pytest.raises(CommandError):
        _run("credential_revoke", "999999")


def test_demo_tenant_is_created_once_and_its_secret_works(api):
    first = _run("demo_tenant")
    second = _run("demo_tenant")
    assert Tenant.objects.filter(slug="demo").count() == 1
    key = next(line.split()[-1] for line in first.splitlines() if "API key:" in line)
    secret = next(line.split()[-1] for line in second.splitlines() if "API secret:" in line)
    assert _tenant_call(api, key, secret).status_code == 200


def test_tenant_settings_refuse_unknown_names_and_signing_modes(tenant):
    from portal import services
    from portal.audit import Actor
    from portal.errors import InvalidInput

    for changes in ({"no_such_setting": 1}, {"request_signing": "Strict"}):
        with pytest.raises(InvalidInput):
            services.tenant_update_settings(
                TenantSettingsChange(changes=changes), tenant=tenant, actor=Actor.system("t")
            )
    tenant.refresh_from_db()
    assert tenant.settings == {}
    assert not AuditEvent.objects.filter(tenant=tenant, action="tenant.updated").exists()
