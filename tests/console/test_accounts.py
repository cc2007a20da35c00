import importlib

import pytest
from django.urls import reverse

from accounts.models import AccountEmail
from customobjects.commands import RecordCreate
from customobjects.services import record_create
from portal.audit import Actor
from portal.models import AuditEvent
from security.models import AccountLockout
from tests.factories import AccountFactory, AccountLockoutFactory

pytestmark = pytest.mark.django_db


def _require_service(name):
    return getattr(importlib.import_module("accounts.services"), name)


@pytest.fixture
def agent_client(make_staff, console_client, tenant):
    user = make_staff("Agent", tenant)
    client = console_client(user)
    client.user = user
    return client


def _search_url(client, **params) -> str:
    """The results page a posted search answers with (the box's text kept by a key)."""
    posted = client.post(reverse("console:account_search"), params)
    assert posted.status_code == 302
    return posted["Location"]


def _search(client, **params):
    return client.get(_search_url(client, **params))


def test_search_by_each_identifier(agent_client, tenant):
    ann = AccountFactory(
        tenant=tenant,
        email="ann.lee@example.com",
        first_name="Ann",
        last_name="Lee",
        username="annie",
        phone_id="+14155550100",
    )
    AccountFactory(tenant=tenant, email="bob@example.com", first_name="Bob", last_name="Stone")
    detail = reverse("console:account_detail", args=[tenant.slug, ann.uid])
    for q in (ann.uid, "ANN.LEE@example.com", "annie", "+1 415 555 0100", "Ann Lee"):
        response = _search(agent_client, q=q)
        # A single hit on a full-page search opens the account.
        assert response.status_code == 302, q
        assert response["Location"] == detail, q


def test_search_lists_with_exact_total_and_pages(agent_client, tenant):
    for i in range(30):
        AccountFactory(tenant=tenant, first_name="Zed", last_name=f"Person{i}")
    AccountFactory(tenant=tenant, first_name="Other", last_name="Name")
    response = _search(agent_client, q="Zed")
    assert response.status_code == 200
    assert b"<strong>30</strong> accounts found" in response.content
    assert response.content.count(b"/console/accounts/" + tenant.slug.encode()) == 25
    page2 = agent_client.get(_search_url(agent_client, q="Zed") + "&page=2")
    assert page2.content.count(b"/console/accounts/" + tenant.slug.encode()) == 5


def test_search_filters_flags(agent_client, tenant):
    AccountFactory(tenant=tenant, first_name="Al", is_active=False)
    AccountLockoutFactory(account__tenant=tenant, account__first_name="Al")
    AccountFactory(tenant=tenant, first_name="Al", email_verified=True)
    assert b"<strong>1</strong> account found" in _search(agent_client, blocked="yes").content
    response = _search(agent_client, blocked="no", locked="no")
    assert b"<strong>1</strong> account found" in response.content
    response = _search(agent_client, verified="no")
    assert b"<strong>2</strong> accounts found" in response.content


def test_search_never_returns_another_tenants_account(agent_client, tenant, other_tenant):
    theirs = AccountFactory(tenant=other_tenant, email="same@example.com")
    response = _search(agent_client, q=theirs.uid)
    assert response.status_code == 200
    assert f"/console/accounts/{other_tenant.slug}/".encode() not in response.content
    assert b"No account matches" in response.content


def test_htmx_search_returns_only_the_results(agent_client, tenant):
    AccountFactory(tenant=tenant, first_name="Hana")
    AccountFactory(tenant=tenant, first_name="Hana")
    response = agent_client.post(
        reverse("console:account_search"), {"q": "Hana"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"<strong>2</strong> accounts found" in response.content
    # The address bar moves to the results by key: the text is in no URL.
    assert response["HX-Push-Url"].startswith(reverse("console:account_search") + "?s=")
    assert "Hana" not in response["HX-Push-Url"]


def test_empty_search_page_explains_what_to_type(agent_client):
    response = _search(agent_client)
    assert b"Type a UID, an email address" in response.content


def test_account_page_shows_profile_emails_flags_and_timeline(
    agent_client, tenant, console_client, make_staff
):
    account = AccountFactory(
        tenant=tenant,
        email="page@example.com",
        first_name="Pia",
        phone_id="+14155550199",
    )
    AccountLockoutFactory(account=account)
    response = agent_client.get(reverse("console:account_detail", args=[tenant.slug, account.uid]))
    assert response.status_code == 200
    body = response.content.decode()
    # An Agent sees personal data masked (the tenant's default); a Lead sees it in full.
    for shown in ("P•••", "pa•••@example.com", "+1 415 •••• 199"):
        assert shown in body
    for hidden in ("page@example.com", "+14155550199", ">Pia<"):
        assert hidden not in body
    lead = console_client(make_staff("Lead", tenant))
    full = lead.get(reverse("console:account_detail", args=[tenant.slug, account.uid]))
    assert all(v in full.content.decode() for v in ("Pia", "page@example.com", "+14155550199"))
    for expected in (
        "Locked",
        "Audit timeline",
        'id="action-block"',
        'id="action-unlock"',
    ):
        assert expected in body
    assert 'id="action-unblock"' not in body  # not blocked: nothing to unblock


def test_action_asks_for_a_reason_then_confirmation_before_running(agent_client, tenant):
    account = AccountFactory(tenant=tenant)
    url = reverse("console:account_action", args=[tenant.slug, account.uid, "block"])
    page = agent_client.get(url)
    assert page.status_code == 200 and b'name="reason"' in page.content
    missing = agent_client.post(url, {"reason": ""})
    assert missing.status_code == 400 and b"This field is required" in missing.content
    review = agent_client.post(url, {"reason": "fraud report", "ticket": "SUP-1"})
    assert review.status_code == 200 and b"Are you sure?" in review.content
    account.refresh_from_db()
    assert account.is_active is True
    assert not AuditEvent.objects.filter(subject_uid=account.uid).exists()


def test_block_runs_the_accounts_service_and_shows_in_timeline(agent_client, tenant):
    _require_service("account_block")
    account = AccountFactory(tenant=tenant)
    url = reverse("console:account_action", args=[tenant.slug, account.uid, "block"])
    response = agent_client.post(
        url, {"reason": "fraud report", "ticket": "SUP-1", "confirmed": "True"}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.is_active is False
    event = AuditEvent.objects.get(subject_uid=account.uid, action="account.blocked")
    assert (event.reason, event.ticket, event.actor_type, event.actor_label) == (
        "fraud report",
        "SUP-1",
        "staff",
        agent_client.user.username,
    )
    page = agent_client.get(response["Location"])
    assert b"account.blocked" in page.content and b"fraud report" in page.content
    assert b"Account blocked." in page.content


def test_unblock_and_unlock_run_their_services(agent_client, tenant):
    _require_service("account_unblock")
    account = AccountFactory(tenant=tenant, is_active=False)
    AccountLockoutFactory(account=account, locked_type="failed")
    for action in ("unblock", "unlock"):
        url = reverse("console:account_action", args=[tenant.slug, account.uid, action])
        assert (
            agent_client.post(url, {"reason": "verified by phone", "confirmed": "True"}).status_code
            == 302
        )
    account.refresh_from_db()
    assert account.is_active is True
    assert not AccountLockout.objects.filter(account=account).exists()
    assert set(
        AuditEvent.objects.filter(subject_uid=account.uid).values_list("action", flat=True)
    ) >= {"account.unblocked", "account.unlocked"}


def test_action_that_does_not_apply_changes_nothing(agent_client, tenant):
    account = AccountFactory(tenant=tenant)  # not locked
    url = reverse("console:account_action", args=[tenant.slug, account.uid, "unlock"])
    response = agent_client.post(url, {"reason": "x", "confirmed": "True"}, follow=True)
    assert b"This account is not locked." in response.content
    assert not AuditEvent.objects.filter(subject_uid=account.uid).exists()
    assert not AccountLockout.objects.filter(account=account).exists()


def test_htmx_history_restore_gets_the_whole_page(agent_client, tenant):
    AccountFactory(tenant=tenant, first_name="Hana")
    AccountFactory(tenant=tenant, first_name="Hana")
    response = agent_client.get(
        _search_url(agent_client, q="Hana"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert b"<html" in response.content


def test_search_and_account_page_query_counts_stay_flat(
    agent_client, tenant, django_assert_max_num_queries
):
    for i in range(40):
        AccountFactory(tenant=tenant, first_name="Many", last_name=f"P{i}")
    results = _search_url(agent_client, q="Many")
    # Sign-in and staff reads, the page's rows and count, their emails and factors (one
    # query for the page), and the session's last-seen stamp: none per row.
    with django_assert_max_num_queries(15):
        response = agent_client.get(results)
    assert b"<strong>40</strong> accounts found" in response.content
    from tests.console.test_account_actions import (
        _make_record,
        _make_role,
        _make_session,
        _make_totp,
    )

    account = AccountFactory(tenant=tenant)
    _make_totp(tenant, account)
    _make_role(tenant, "r1")
    from roles.commands import AccountRolesAssign, ContextGrant, RoleContextGrant
    from roles.services import account_roles_assign, role_contexts_upsert

    account_roles_assign(
        AccountRolesAssign(roles=["r1"]), tenant=tenant, actor=Actor.system("t"), account=account
    )
    role_contexts_upsert(
        RoleContextGrant(contexts=[ContextGrant(name="c1", roles=("r1",))]),
        tenant=tenant,
        actor=Actor.system("t"),
        account=account,
    )
    record = _make_record(tenant, account)
    page = reverse("console:account_detail", args=[tenant.slug, account.uid])
    agent_client.get(page)
    with django_assert_max_num_queries(31):
        assert agent_client.get(page).status_code == 200
    # More sessions, records, contexts and emails cost no more queries.
    for _ in range(5):
        _make_session(tenant, account)
    for i in range(5):
        record_create(
            RecordCreate(data={"i": i}),
            tenant=tenant,
            actor=Actor.system("t"),
            object_type=record.object_type,
            account=account,
        )
        role_contexts_upsert(
            RoleContextGrant(contexts=[ContextGrant(name=f"more{i}", roles=("r1",))]),
            tenant=tenant,
            actor=Actor.system("t"),
            account=account,
        )
        AccountEmail.objects.create(
            tenant=tenant, account=account, type=f"T{i}", value=f"x{i}@example.com"
        )
    with django_assert_max_num_queries(31):
        assert agent_client.get(page).status_code == 200


def test_account_page_shows_roles_and_live_sessions(agent_client, tenant):
    from datetime import timedelta

    from django.utils import timezone

    from roles.models import AccountRole, Role
    from tokens.models import TokenFamily

    account = AccountFactory(tenant=tenant)
    for name in ("editor", "billing"):
        AccountRole.objects.create(
            tenant=tenant, account=account, role=Role.objects.create(tenant=tenant, name=name)
        )
    TokenFamily.objects.create(
        tenant=tenant, account=account, expires_at=timezone.now() + timedelta(days=1)
    )
    TokenFamily.objects.create(
        tenant=tenant,
        account=account,
        expires_at=timezone.now() + timedelta(days=1),
        revoked_at=timezone.now(),
    )
    body = agent_client.get(
        reverse("console:account_detail", args=[tenant.slug, account.uid])
    ).content.decode()
    roles = body.split('id="account-roles">')[1].split("</dd>")[0]
    assert roles.index("billing") < roles.index("editor")
    assert 'id="account-sessions">1<' in body
