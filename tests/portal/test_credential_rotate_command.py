"""`manage.py credential_rotate`: per credential, keeping labels and sections, checked against the API."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from freezegun import freeze_time

from portal.models import ApiCredential, AuditEvent
from tests.factories import ApiCredentialFactory
from tests.portal.conftest import LR_PING

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command("credential_rotate", *args, stdout=out)
    return out.getvalue()


def _call(api, tenant, secret):
    """A LoginRadius management call: its refusals keep the LoginRadius `ErrorCode`."""
    return api.get(f"{LR_PING}?apikey={tenant.api_key}&apisecret={secret}")


def test_one_credential_by_id_keeps_its_label_and_scopes_and_leaves_the_others(api, tenant):
    target = ApiCredentialFactory(tenant=tenant, label="backend", scopes=["native", "roles"])
    other = ApiCredentialFactory(tenant=tenant, label="billing")
    out = json.loads(
        _run(
            tenant.slug,
            "--credential",
            str(target.pk),
            "--overlap-hours",
            "1",
            "--reason",
            "yearly",
            "--json",
        )
    )
    assert [row["replaces"] for row in out["credentials"]] == [target.pk]
    new = ApiCredential.objects.get(pk=out["credential_id"])
    assert (new.label, new.scopes, new.raw_secret()) == (
        "backend",
        ["native", "roles"],
        out["api_secret"],
    )
    other.refresh_from_db()
    assert (other.expires_at, other.revoked_at) == (None, None)
    assert AuditEvent.objects.get(action="credential.created").reason == "yearly"
    assert _call(api, tenant, target.raw).status_code == 200
    with freeze_time(timezone.now() + timedelta(hours=1, minutes=1)):
        assert _call(api, tenant, target.raw).json()["ErrorCode"] == 902
        assert _call(api, tenant, out["api_secret"]).status_code == 200
        assert _call(api, tenant, other.raw).status_code == 200


def test_without_an_id_each_live_secret_is_replaced_by_its_own(api, tenant):
    a = ApiCredentialFactory(tenant=tenant, label="a", scopes=["native"])
    b = ApiCredentialFactory(tenant=tenant, label="b", scopes=["accounts"])
    ApiCredentialFactory(tenant=tenant, label="dead", revoked_at=timezone.now())
    out = json.loads(_run(tenant.slug, "--overlap-hours", "0", "--json"))
    pairs = {row["replaces"]: (row["label"], row["scopes"]) for row in out["credentials"]}
    assert pairs == {a.pk: ("a", ["native"]), b.pk: ("b", ["accounts"])}
    assert "api_secret" not in out  # several secrets: only the list
    assert ApiCredential.objects.filter(tenant=tenant, label="dead").count() == 1
    assert ApiCredential.objects.usable().filter(tenant=tenant).count() == 2
    assert _call(api, tenant, a.raw).json()["ErrorCode"] == 902


def test_an_unknown_or_foreign_credential_changes_nothing(tenant, other_tenant):
    theirs = ApiCredentialFactory(tenant=other_tenant)
    ApiCredentialFactory(tenant=tenant)
    before = AuditEvent.objects.count(), ApiCredential.objects.count()
    for args in (
        ("--credential", str(theirs.pk)),
        ("--credential", "999999"),
        ("--overlap-hours", "-1"),
    ):
        with pytest.raises(CommandError):
            _run(tenant.slug, *args)
    assert (AuditEvent.objects.count(), ApiCredential.objects.count()) == before
