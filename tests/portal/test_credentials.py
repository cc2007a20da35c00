"""Every place the LoginRadius SDKs put the API key and secret, and tenant isolation."""

import pytest
from django.test import RequestFactory

from portal.lrapi import auth
from portal.lrapi.errors import LRError
from portal.models import ApiCredential
from portal.tenant_commands import CredentialRotate
from tests.factories import ApiCredentialFactory
from tests.portal.conftest import LR_PING, PROBE_URLS, assert_lr_error

pytestmark = pytest.mark.django_db


def _tenant_api(api, credential, **kwargs):
    return api.get("/api/v1/tenant", **kwargs)


@pytest.mark.parametrize("key_name", ["apikey", "apiKey", "APIKEY", "ApiKey"])
@pytest.mark.parametrize("secret_name", ["apisecret", "apiSecret", "APISECRET"])
def test_key_and_secret_in_the_query_in_any_case(api, credential, key_name, secret_name):
    response = api.get(
        f"/api/v1/tenant?{key_name}={credential.tenant.api_key}&{secret_name}={credential.raw}"
    )
    assert response.status_code == 200, response.content
    assert response.json()["api_key"] == credential.tenant.api_key
    assert response.json()["credential"]["authenticated_via"] == "secret"


def test_key_and_secret_in_loginradius_headers(api, credential):
    response = api.get(
        "/api/v1/tenant",
        HTTP_X_LOGINRADIUS_APIKEY=credential.tenant.api_key,
        HTTP_X_LOGINRADIUS_APISECRET=credential.raw,
    )
    assert response.status_code == 200, response.content
    assert response.json()["credential"]["id"] == credential.pk


def test_node_style_mixed_case_headers_and_query_together(api, credential):
    # Node v11 sends X-LoginRadius-apiKey / X-LoginRadius-apiSecret plus the query params.
    response = api.get(
        f"/api/v1/tenant?apiKey={credential.tenant.api_key}&apiSecret={credential.raw}",
        headers={
            "X-LoginRadius-apiKey": credential.tenant.api_key,
            "x-loginradius-APISECRET": credential.raw,
        },
    )
    assert response.status_code == 200, response.content


def test_python_sdk_mix_key_in_query_secret_in_header(lr, credential):
    response = lr.get("/api/v1/tenant")
    assert response.status_code == 200
    assert response.json()["credential"]["authenticated_via"] == "secret"


def test_key_in_header_secret_in_query(api, credential):
    response = api.get(
        f"/api/v1/tenant?apisecret={credential.raw}",
        HTTP_X_LOGINRADIUS_APIKEY=credential.tenant.api_key,
    )
    assert response.status_code == 200, response.content


@pytest.mark.urls(PROBE_URLS)
def test_client_id_and_client_secret(api, credential):
    response = api.get(
        f"/api/v1/_probe/echo?client_id={credential.tenant.api_key}&client_secret={credential.raw}"
    )
    assert response.status_code == 200, response.content
    assert response.json()["ApiKey"] == credential.tenant.api_key
    assert response.json()["Via"] == "client"


def test_uppercase_and_undashed_guids_are_the_same_credentials(api, credential):
    key = credential.tenant.api_key.upper()
    secret = credential.raw.replace("-", "")
    response = api.get(f"/api/v1/tenant?apikey={key}&apisecret={secret}")
    assert response.status_code == 200, response.content


def _request(path, **headers):
    return RequestFactory().get(path, **headers)


def test_key_and_secret_query_names_on_legacy_api_v2_paths(credential):
    request = _request(
        f"/api/v2/access_token?key={credential.tenant.api_key}&secret={credential.raw}"
    )
    principal = auth.authenticate_management(request)
    assert principal.tenant == credential.tenant
    assert principal.credential == credential


def test_key_and_secret_query_names_are_not_credentials_outside_api_v2(credential):
    request = _request(
        f"/identity/v2/manage/account?key={credential.tenant.api_key}&secret={credential.raw}"
    )
    with pytest.raises(LRError) as caught:
        auth.authenticate_management(request)
    assert caught.value.error_code == 908


@pytest.mark.urls(PROBE_URLS)
def test_legacy_path_through_a_view_answers_lower_camel_errors(api, credential):
    ok = api.get(f"/api/v2/_probe/echo?key={credential.tenant.api_key}&secret={credential.raw}")
    assert ok.status_code == 200, ok.content
    wrong = api.get(f"/api/v2/_probe/echo?key={credential.tenant.api_key}&secret={'0' * 32}")
    assert_lr_error(wrong, 902, 401, lower_camel=True)


def test_revoked_secret_is_902_and_its_sibling_still_works(api, credential):
    sibling = ApiCredentialFactory(tenant=credential.tenant)
    from django.utils import timezone

    ApiCredential.objects.filter(pk=credential.pk).update(revoked_at=timezone.now())
    revoked = api.get(f"{LR_PING}?apikey={credential.tenant.api_key}&apisecret={credential.raw}")
    assert_lr_error(revoked, 902, 401)
    live = api.get(f"{LR_PING}?apikey={credential.tenant.api_key}&apisecret={sibling.raw}")
    assert live.status_code == 200


def test_expired_secret_is_902(api, tenant):
    from datetime import timedelta

    from django.utils import timezone

    expired = ApiCredentialFactory(tenant=tenant, expires_at=timezone.now() - timedelta(seconds=1))
    response = api.get(f"{LR_PING}?apikey={tenant.api_key}&apisecret={expired.raw}")
    assert_lr_error(response, 902, 401)


def test_inactive_tenant_key_is_901(api, credential):
    credential.tenant.is_active = False
    credential.tenant.save()
    response = api.get(f"{LR_PING}?apikey={credential.tenant.api_key}&apisecret={credential.raw}")
    assert_lr_error(response, 901, 403)


# Tenant isolation


def test_each_tenant_sees_only_itself(lr, lr_other, tenant, other_tenant):
    assert lr.get("/api/v1/tenant").json()["api_key"] == tenant.api_key
    assert lr_other.get("/api/v1/tenant").json()["api_key"] == other_tenant.api_key


def test_one_tenants_secret_with_another_tenants_key_is_902(api, credential, other_credential):
    response = api.get(
        f"{LR_PING}?apikey={other_credential.tenant.api_key}&apisecret={credential.raw}"
    )
    assert_lr_error(response, 902, 401)
    response = api.get(
        LR_PING,
        HTTP_X_LOGINRADIUS_APIKEY=credential.tenant.api_key,
        HTTP_X_LOGINRADIUS_APISECRET=other_credential.raw,
    )
    assert_lr_error(response, 902, 401)


def test_other_tenants_account_is_user_does_not_exist(lr, lr_other, account):
    from accounts.selectors import account_get
    from portal.errors import AccountNotFound

    assert account_get(tenant=account.tenant, uid=account.uid) == account
    with pytest.raises(AccountNotFound):
        account_get(tenant=lr_other.credential.tenant, uid=account.uid)
    # And on the wire, through the other tenant's key: LoginRadius 938.
    response = lr_other.get(f"/identity/v2/manage/account/{account.uid}")
    assert_lr_error(response, 938, 403)


# Scope


def test_credential_scoped_to_another_section_is_1143(api, tenant):
    scoped = ApiCredentialFactory(tenant=tenant, scopes=["accounts"])
    response = api.get(f"{LR_PING}?apikey={tenant.api_key}&apisecret={scoped.raw}")
    assert_lr_error(response, 1143, 403)


def test_credential_scoped_to_the_section_passes(api, tenant):
    scoped = ApiCredentialFactory(tenant=tenant, scopes=["native"])
    response = api.get(f"/api/v1/tenant?apikey={tenant.api_key}&apisecret={scoped.raw}")
    assert response.status_code == 200


# Hot path


def test_authentication_costs_at_most_two_queries(lr, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # credential+tenant, and the last-used stamp
        assert lr.get("/api/v1/tenant").status_code == 200
    with django_assert_max_num_queries(1):  # last-used stamp is fresh: one read
        assert lr.get("/api/v1/tenant").status_code == 200


def test_use_is_stamped_on_the_credential(lr, credential):
    assert credential.last_used_at is None
    lr.get("/api/v1/tenant")
    credential.refresh_from_db()
    assert credential.last_used_at is not None


def test_api_key_lookup_is_cached_and_a_deactivated_tenant_is_refused_at_once(
    tenant, django_assert_num_queries
):
    from portal.lrapi.auth import tenant_for_api_key

    assert tenant_for_api_key(tenant.api_key).pk == tenant.pk
    with django_assert_num_queries(0):
        assert tenant_for_api_key(tenant.api_key).pk == tenant.pk
    tenant.is_active = False
    tenant.save()
    with pytest.raises(LRError) as refused:
        tenant_for_api_key(tenant.api_key)
    assert refused.value.error_code == 901


# Rotation: one credential at a time


def _rows(tenant):
    return sorted(
        ApiCredential.objects.filter(tenant=tenant).values_list(
            "pk", "label", "scopes", "expires_at", "revoked_at"
        )
    )


def test_rotating_one_credential_leaves_the_others_of_the_tenant_without_expiry(api, tenant):
    from datetime import timedelta

    from django.utils import timezone
    from freezegun import freeze_time

    from portal import services
    from portal.audit import Actor

    rotated = ApiCredentialFactory(tenant=tenant, label="backend", scopes=["native", "roles"])
    others = [
        ApiCredentialFactory(tenant=tenant, label="billing"),
        ApiCredentialFactory(tenant=tenant, label="reports", scopes=["accounts"]),
    ]
    issued = services.credential_rotate(
        CredentialRotate(credential_id=rotated.pk, reason="yearly", overlap_seconds=10800),
        tenant=rotated.tenant,
        actor=Actor.system("t"),
    )
    for other in others:
        other.refresh_from_db()
        assert (other.expires_at, other.revoked_at) == (None, None)
    assert (issued.credential.label, issued.credential.scopes) == ("backend", ["native", "roles"])
    assert issued.credential.expires_at is None
    url = f"{LR_PING}?apikey={tenant.api_key}&apisecret="
    assert api.get(url + rotated.raw).status_code == 200
    assert api.get(url + issued.raw_secret).status_code == 200
    with freeze_time(timezone.now() + timedelta(hours=3, seconds=30)):
        assert_lr_error(api.get(url + rotated.raw), 902, 401)
        assert api.get(url + issued.raw_secret).status_code == 200
        assert api.get(url + others[0].raw).status_code == 200


def test_rotation_keeps_an_earlier_expiry_of_the_old_secret(tenant):
    from datetime import timedelta

    from django.utils import timezone

    from portal import services
    from portal.audit import Actor

    soon = timezone.now() + timedelta(hours=1)
    old = ApiCredentialFactory(tenant=tenant, label="temp", expires_at=soon)
    issued = services.credential_rotate(
        CredentialRotate(credential_id=old.pk, reason="r", overlap_seconds=86400),
        tenant=old.tenant,
        actor=Actor.system("t"),
    )
    old.refresh_from_db()
    assert old.expires_at == soon
    assert issued.credential.expires_at == soon  # the replacement lives no longer than the original


@pytest.mark.parametrize("reason", ["", "   "])
def test_rotation_without_a_reason_is_refused_and_changes_nothing(tenant, reason):
    from portal import services
    from portal.audit import Actor
    from portal.models import AuditEvent

    ApiCredentialFactory(tenant=tenant)
    before = _rows(tenant), AuditEvent.objects.count()
    with pytest.raises(services.CredentialRotationRefused):
        services.credential_rotate(
            CredentialRotate(
                credential_id=ApiCredential.objects.get(tenant=tenant).pk, reason=reason
            ),
            tenant=tenant,
            actor=Actor.system("t"),
        )
    assert (_rows(tenant), AuditEvent.objects.count()) == before


def test_a_revoked_secret_is_not_rotated(tenant):
    from django.utils import timezone

    from portal import services
    from portal.audit import Actor

    revoked = ApiCredentialFactory(tenant=tenant, revoked_at=timezone.now())
    before = _rows(tenant)
    with pytest.raises(services.CredentialRotationRefused):
        services.credential_rotate(
            CredentialRotate(credential_id=revoked.pk, reason="r"),
            tenant=revoked.tenant,
            actor=Actor.system("t"),
        )
    assert _rows(tenant) == before


@pytest.mark.django_db
def test_the_service_refuses_a_past_end_of_life_a_long_label_and_unknown_scopes(tenant):
    """The rules of a new secret are the service's, so every front door gets the same ones."""
    from datetime import timedelta

    from django.utils import timezone

    from portal.audit import Actor
    from portal.errors import InvalidInput
    from portal.services import credential_create
    from portal.tenant_commands import CredentialCreate

    before = ApiCredential.objects.count()
    with pytest.raises(InvalidInput) as refused:
        credential_create(
            CredentialCreate(
                label="x" * 201,
                scopes=("nowhere",),
                expires_at=timezone.now() - timedelta(minutes=1),
            ),
            tenant=tenant,
            actor=Actor.system("test"),
        )
    assert {error.field for error in refused.value.field_errors} == {
        "label",
        "scopes",
        "expires_at",
    }
    assert ApiCredential.objects.count() == before
