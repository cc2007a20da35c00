"""The benchmark's bare floor (bench.bare): the same profile shape as the project's answer,
a one-read token look-up, and a rotation that writes what the issue's floor writes."""

import json

from django.test import RequestFactory

from bench import bare, bare_settings
from portal.audit import Actor
from portal.crypto import token_hash
from portal.models import AuditEvent
from tests.factories import AccountFactory
from tokens.commands import SessionIssue
from tokens.models import AccessToken, RefreshToken
from tokens.services.sessions import session_issue

requests = RequestFactory()


def test_the_bare_floor_runs_no_middleware_and_no_app():
    assert bare_settings.MIDDLEWARE == [] and bare_settings.INSTALLED_APPS == []
    assert bare_settings.ROOT_URLCONF == "bench.bare"


def test_the_profile_has_the_projects_keys_in_the_projects_order(lr, tenant):
    account = AccountFactory(
        tenant=tenant, first_name="Anna", last_name="Kowalski", profile={"City": "Berlin"}
    )
    project = lr.get(f"/identity/v2/manage/account/{account.uid}")
    assert project.status_code == 200

    floor = bare.account_by_uid(
        requests.get(f"/floor/account/{account.uid}", {"t": tenant.pk}), account.uid
    )

    assert floor.status_code == 200
    body = json.loads(floor.content)
    assert list(body) == list(project.json())
    for key in ("Uid", "ID", "FirstName", "LastName", "FullName", "City", "CreatedDate"):
        assert body[key] == project.json()[key], key


def test_an_account_of_another_tenant_is_not_found(tenant, other_tenant):
    account = AccountFactory(tenant=tenant)
    floor = bare.account_by_uid(
        requests.get(f"/floor/account/{account.uid}", {"t": other_tenant.pk}), account.uid
    )
    assert floor.status_code == 404


def test_the_token_floor_reads_a_live_token_by_its_hash(tenant):
    account = AccountFactory(tenant=tenant)
    issued = session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
    )
    hashed = token_hash(issued.access_token)

    assert bare.token(requests.get("/floor/token", {"h": hashed})).status_code == 200
    AccessToken.objects.filter(token_hash=hashed).update(revoked_at=issued.access_expires_at)
    assert bare.token(requests.get("/floor/token", {"h": hashed})).status_code == 404
    assert bare.token(requests.get("/floor/token", {"h": "0" * 64})).status_code == 404


def test_a_rotation_updates_the_token_and_inserts_the_successor_and_one_event(tenant):
    account = AccountFactory(tenant=tenant)
    issued = session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
    )
    old = RefreshToken.objects.get(token_hash=token_hash(issued.refresh_token))
    events = AuditEvent.objects.count()

    response = bare.rotate(requests.get("/floor/rotate", {"h": old.token_hash, "uid": account.uid}))

    assert response.status_code == 200
    old.refresh_from_db()
    assert old.rotated_at is not None
    successor = RefreshToken.objects.filter(family_id=old.family_id).exclude(pk=old.pk).get()
    assert successor.account_id == account.pk and successor.rotated_at is None
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.subject_uid, event.tenant_id) == (
        "session.refreshed",
        account.uid,
        tenant.pk,
    )


def test_an_unknown_refresh_token_writes_nothing(tenant):
    tokens, events = RefreshToken.objects.count(), AuditEvent.objects.count()
    response = bare.rotate(requests.get("/floor/rotate", {"h": "0" * 64, "uid": "x"}))
    assert response.status_code == 404
    assert (RefreshToken.objects.count(), AuditEvent.objects.count()) == (tokens, events)
