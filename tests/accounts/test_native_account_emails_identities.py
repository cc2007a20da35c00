"""An account's emails and linked identities as native resources (docs/api.md): lists on the
conventions, adding and removing through the account commands, problem details."""

import pytest

from accounts import services
from accounts.commands import IdentityLink
from accounts.models import AccountEmail, AccountIdentity
from portal.models import AuditEvent
from tests.accounts.conftest import state
from tests.accounts.test_native_accounts_api import field_codes, problem
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory

pytestmark = pytest.mark.django_db

S = "/api/v1/accounts"


@pytest.fixture
def ann(make_account):
    return make_account("ann@example.com", FirstName="Ann")


# ---------------------------------------------------------------- emails


def test_emails_are_listed_in_the_order_they_were_added(lr, ann, actor, tenant):
    response = lr.post(
        f"{S}/{ann.uid}/emails",
        {"value": "ann@work.example", "type": "Secondary"},
        HTTP_X_REASON="new job",
        HTTP_X_TICKET="SUP-3",
    )
    assert response.status_code == 201, response.content
    added = response.json()
    assert (added["value"], added["type"], added["verified"]) == (
        "ann@work.example",
        "Secondary",
        False,
    )
    assert added["created_at"].endswith("Z")
    assert response["Location"].endswith(f"{S}/{ann.uid}/emails/ann@work.example")
    body = lr.get(f"{S}/{ann.uid}/emails").json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    assert [e["value"] for e in body["results"]] == ["ann@example.com", "ann@work.example"]
    assert body["results"][1] == added
    event = AuditEvent.objects.get(subject_uid=ann.uid, action="account_email.upserted")
    assert (event.reason, event.ticket) == ("new job", "SUP-3")
    first = lr.get(f"{S}/{ann.uid}/emails", {"page_size": 1}).json()
    assert [e["value"] for e in first["results"]] == ["ann@example.com"]
    rest = lr.client.get(first["next"], HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw).json()
    assert [e["value"] for e in rest["results"]] == ["ann@work.example"] and rest["next"] is None


def test_an_email_of_another_account_is_409_and_bad_bodies_are_400(lr, ann, make_account, tenant):
    make_account("bob@example.com")
    before = state(tenant)
    body = problem(
        lr.post(f"{S}/{ann.uid}/emails", {"value": "BOB@example.com", "type": "Secondary"}),
        409,
        "account.email_taken",
    )
    assert field_codes(body) == {"value": "invalid"}
    for bad, errors in [
        ({"value": "x@example.com"}, {"type": "required"}),
        ({"type": "Secondary"}, {"value": "required"}),
        ({"value": "not-an-email", "type": "Secondary"}, {"value": "invalid"}),
        (
            {"value": "x@example.com", "type": "Secondary", "verified": True},
            {"verified": "unknown"},
        ),
        ({"value": 5, "type": "Secondary"}, {"value": "invalid"}),
    ]:
        response = lr.post(f"{S}/{ann.uid}/emails", bad)
        assert response.status_code == 400, (bad, response.content)
        assert field_codes(response.json()) == errors, (bad, response.json())
    problem(lr.get(f"{S}/{ann.uid}/emails", {"emial": "x"}), 400, "input.invalid")
    assert state(tenant) == before


def test_removing_an_email_answers_204_but_never_the_last_one(lr, ann, tenant):
    lr.post(f"{S}/{ann.uid}/emails", {"value": "ann@work.example", "type": "Secondary"})
    response = lr.delete(f"{S}/{ann.uid}/emails/ANN@work.example", HTTP_X_REASON="bounces")
    assert response.status_code == 204, response.content
    assert list(AccountEmail.objects.filter(account=ann).values_list("value", flat=True)) == [
        "ann@example.com"
    ]
    event = AuditEvent.objects.get(subject_uid=ann.uid, action="account_email.removed")
    assert event.reason == "bounces"
    before = state(tenant)
    problem(lr.delete(f"{S}/{ann.uid}/emails/ann@example.com"), 409, "account.last_email")
    problem(
        lr.delete(f"{S}/{ann.uid}/emails/nobody@example.com"), 404, "account.email_not_in_profile"
    )
    assert state(tenant) == before


# ---------------------------------------------------------------- identities


def test_identities_are_linked_listed_and_unlinked(lr, ann, tenant):
    response = lr.post(
        f"{S}/{ann.uid}/identities",
        {
            "provider": "Google",
            "provider_id": "g-1",
            "emails": ["g@example.com"],
            "profile": {"FirstName": "G"},
        },
        HTTP_X_REASON="merge",
    )
    assert response.status_code == 201, response.content
    linked = response.json()
    assert (linked["provider"], linked["provider_id"], linked["emails"]) == (
        "google",
        "g-1",
        ["g@example.com"],
    )
    assert linked["profile"] == {"FirstName": "G"} and linked["linked_at"].endswith("Z")
    assert response["Location"].endswith(f"{S}/{ann.uid}/identities/google/g-1")
    body = lr.get(f"{S}/{ann.uid}/identities").json()
    assert body == {"count": 1, "next": None, "previous": None, "results": [linked]}
    assert lr.get(f"{S}/{ann.uid}")["ETag"]
    event = AuditEvent.objects.get(subject_uid=ann.uid, action="account_identity.linked")
    assert event.reason == "merge"
    response = lr.delete(f"{S}/{ann.uid}/identities/google/g-1", HTTP_X_TICKET="SUP-4")
    assert response.status_code == 204, response.content
    assert not AccountIdentity.objects.filter(account=ann).exists()
    event = AuditEvent.objects.get(subject_uid=ann.uid, action="account_identity.unlinked")
    assert event.ticket == "SUP-4"


def test_identity_refusals_are_problems_and_change_nothing(lr, ann, make_account, tenant, actor):
    other = make_account("other@example.com")
    services.account_identity_link(
        IdentityLink(provider="google", provider_id="x"), tenant=tenant, actor=actor, account=other
    )
    before = state(tenant), AccountIdentity.objects.count()
    problem(
        lr.post(f"{S}/{ann.uid}/identities", {"provider": "google", "provider_id": "x"}),
        409,
        "account.identity_taken",
    )
    for bad, errors in [
        ({"provider_id": "1"}, {"provider": "required"}),
        ({"provider": "g"}, {"provider_id": "required"}),
        ({"provider": "g", "provider_id": "1", "emails": ["bad"]}, {"emails": "invalid"}),
        ({"provider": "g", "provider_id": "1", "providerid": "1"}, {"providerid": "unknown"}),
    ]:
        response = lr.post(f"{S}/{ann.uid}/identities", bad)
        assert response.status_code == 400, (bad, response.content)
        assert field_codes(response.json()) == errors, (bad, response.json())
    # Another account's identity is not found through this one.
    problem(lr.delete(f"{S}/{ann.uid}/identities/google/x"), 404, "account.identity_not_linked")
    assert (state(tenant), AccountIdentity.objects.count()) == before


def test_the_last_way_to_sign_in_is_not_unlinked(lr, make_account, tenant, actor):
    account = make_account("s@example.com")
    account.password = ""
    account.save(update_fields=["password"])
    services.account_identity_link(
        IdentityLink(provider="facebook", provider_id="f1"),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    before = state(tenant)
    problem(
        lr.delete(f"{S}/{account.uid}/identities/facebook/f1"),
        409,
        "account.last_sign_in_method",
    )
    assert state(tenant) == before and account.identities.count() == 1


# ---------------------------------------------------------------- tenants and scopes


def test_another_tenants_account_is_404_everywhere(lr_other, ann, tenant):
    before = state(tenant)
    for response in (
        lr_other.get(f"{S}/{ann.uid}/emails"),
        lr_other.post(f"{S}/{ann.uid}/emails", {"value": "z@example.com", "type": "Other"}),
        lr_other.delete(f"{S}/{ann.uid}/emails/ann@example.com"),
        lr_other.get(f"{S}/{ann.uid}/identities"),
        lr_other.post(f"{S}/{ann.uid}/identities", {"provider": "g", "provider_id": "1"}),
        lr_other.delete(f"{S}/{ann.uid}/identities/g/1"),
    ):
        problem(response, 404, "account.not_found")
    assert state(tenant) == before


def test_a_credential_without_the_accounts_section_is_refused(tenant, ann):
    scoped = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["sessions"]))
    before = state(tenant), AccountIdentity.objects.count()
    for response in (
        scoped.get(f"{S}/{ann.uid}/emails"),
        scoped.post(f"{S}/{ann.uid}/emails", {"value": "z@example.com", "type": "Other"}),
        scoped.delete(f"{S}/{ann.uid}/emails/ann@example.com"),
        scoped.get(f"{S}/{ann.uid}/identities"),
        scoped.post(f"{S}/{ann.uid}/identities", {"provider": "g", "provider_id": "1"}),
    ):
        problem(response, 403, "credential.scope_refused")
    assert (state(tenant), AccountIdentity.objects.count()) == before
