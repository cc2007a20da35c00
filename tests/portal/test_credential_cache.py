"""The plain-secret credential is served from a short-lived cache, and every change that
must refuse it (revoke, rotation deadline, tenant deactivation or signing mode) is seen on
the very next request."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal import services
from portal.audit import Actor
from portal.models import ApiCredential
from portal.tenant_commands import CredentialRevoke, CredentialRotate, TenantSettingsChange
from tests.portal.conftest import LR_PING, assert_lr_error

pytestmark = pytest.mark.django_db

ADMIN = Actor.system("tests")


def _call(api, credential, secret=None):
    """A LoginRadius management call: its refusals keep the LoginRadius `ErrorCode`."""
    return api.get(
        f"{LR_PING}?apikey={credential.tenant.api_key}&apisecret={secret or credential.raw}"
    )


def _warm(api, credential):
    for _ in range(2):  # the first call stamps last use, which drops the cached copy
        assert _call(api, credential).status_code == 200


def _credential_queries(api, credential) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = _call(api, credential)
    return sum("portal_apicredential" in q["sql"] for q in ctx.captured_queries), response


def test_a_resolved_secret_is_served_from_the_cache(api, credential):
    _warm(api, credential)
    reads, response = _credential_queries(api, credential)
    assert response.status_code == 200 and reads == 0


def test_revoking_through_the_service_refuses_the_cached_secret_at_once(api, credential):
    _warm(api, credential)
    services.credential_revoke(
        CredentialRevoke(credential_id=credential.pk, reason="leaked"),
        tenant=credential.tenant,
        actor=ADMIN,
    )
    assert_lr_error(_call(api, credential), 902, 401)


def test_a_rotation_deadline_in_the_past_refuses_the_old_secret_at_once(api, credential):
    _warm(api, credential)
    services.credential_rotate(
        CredentialRotate(credential_id=credential.pk, reason="rotated", overlap_seconds=0),
        tenant=credential.tenant,
        actor=ADMIN,
    )
    assert_lr_error(_call(api, credential), 902, 401)


def test_a_rotation_deadline_is_applied_to_the_cached_secret(api, credential):
    _warm(api, credential)
    soon = timezone.now() + timedelta(minutes=5)
    services.credential_rotate(
        CredentialRotate(credential_id=credential.pk, reason="rotated", overlap_seconds=300),
        tenant=credential.tenant,
        actor=ADMIN,
    )
    assert _call(api, credential).status_code == 200
    from freezegun import freeze_time

    with freeze_time(soon + timedelta(seconds=1)):
        assert_lr_error(_call(api, credential), 902, 401)


def test_an_expired_secret_is_refused_even_while_cached(api, tenant):
    from freezegun import freeze_time

    from tests.factories import ApiCredentialFactory

    credential = ApiCredentialFactory(
        tenant=tenant, expires_at=timezone.now() + timedelta(minutes=1)
    )
    _warm(api, credential)
    with freeze_time(timezone.now() + timedelta(minutes=2)):
        assert_lr_error(_call(api, credential), 902, 401)


def test_deactivating_the_tenant_refuses_the_cached_secret_at_once(api, credential):
    _warm(api, credential)
    credential.tenant.is_active = False
    credential.tenant.save()
    assert_lr_error(_call(api, credential), 901)


def test_switching_the_tenant_to_strict_signing_refuses_the_cached_secret_at_once(api, credential):
    _warm(api, credential)
    services.tenant_update_settings(
        TenantSettingsChange(changes={"request_signing": "strict"}),
        tenant=credential.tenant,
        actor=ADMIN,
    )
    response = _call(api, credential)
    assert response.status_code != 200 and response.json()["ErrorCode"] == 1207


def test_the_cached_copy_does_not_hold_back_the_last_used_stamp(api, credential):
    _warm(api, credential)
    stale = timezone.now() - timedelta(hours=1)
    ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=stale)
    # The cached copy still carries the recent stamp; once it is gone the stamp is renewed.
    from django.core.cache import cache

    from portal.lrapi.auth import _credential_cache_key

    cache.delete(
        _credential_cache_key(
            credential.tenant.api_key, ApiCredential.objects.get(pk=credential.pk).secret_hash
        )
    )
    assert _call(api, credential).status_code == 200
    assert ApiCredential.objects.get(pk=credential.pk).last_used_at > stale
