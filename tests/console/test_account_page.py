"""The account page: the security summary, sign-in history, second factors, actions that follow
the state, and a timeline people can read (names, filters, paging), in a bounded number of
queries."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.commands import AccountBlock, AccountChanges, PasswordSet
from accounts.services import account_block, account_password_set, account_update
from customobjects.commands import RecordCreate
from customobjects.models import CustomObjectRecord
from customobjects.services import record_create
from portal.audit import Actor
from portal.console import event_names
from portal.models import AuditEvent
from security.models import AccountLockout, LoginFailureCounter
from tests.console.test_account_actions import _make_record, _make_totp
from tests.factories import AccountFactory, TenantFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-42"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0 Mobile Safari/537.36"
)


def sign_in_attempt(tenant, email, password, *, user_agent=FIREFOX_LINUX, ip="203.0.113.9"):
    """A sign-in through the LoginRadius API, as an app would make it."""
    return APIClient().post(
        f"/identity/v2/auth/login?apikey={tenant.api_key}",
        {"email": email, "password": password},
        format="json",
        HTTP_USER_AGENT=user_agent,
        REMOTE_ADDR=ip,
    )


def busy_account(tenant, staff_user, *, lock=True):
    """Maria Garcia: a password reset by an agent, a name fix, two sign-ins (two sessions),
    wrong passwords up to a lock and one attempt while locked, an authenticator app and a
    custom record with long data."""
    tenant.settings = {**tenant.settings, "lockout_threshold": 3}
    tenant.save()
    email = "maria.garcia@example.com"
    account = AccountFactory(
        tenant=tenant, first_name="Mary", last_name="Garcia", email=email, password=""
    )
    agent = Actor.staff(staff_user)
    account = account_password_set(
        PasswordSet(password=PASSWORD, reason="Forgot her password; identity checked"),
        tenant=tenant,
        actor=agent,
        account=account,
    )
    account = account_update(
        AccountChanges(values={"FirstName": "Maria"}, reason="Name typo", ticket="SUP-7"),
        tenant=tenant,
        actor=agent,
        account=account,
    )
    assert sign_in_attempt(tenant, email, PASSWORD).status_code == 200
    assert (
        sign_in_attempt(
            tenant, email, PASSWORD, user_agent=CHROME_ANDROID, ip="198.51.100.4"
        ).status_code
        == 200
    )
    if lock:
        for _ in range(4):  # three wrong passwords lock; the fourth attempt meets the lock
            assert sign_in_attempt(tenant, email, "Wrong-password-1").status_code != 200
    _make_totp(tenant, account)
    _make_record(tenant, account, {"note": "x" * 300, "plan": "gold-" + "y" * 60})
    account.refresh_from_db()
    return account


@pytest.fixture
def agent(make_staff, tenant):
    return make_staff("Agent", tenant, username="lee.lead")


@pytest.fixture
def agent_client(agent, console_client):
    return console_client(agent)


@pytest.fixture
def lead_client(make_staff, console_client, tenant):
    return console_client(make_staff("Lead", tenant, username="lou.lead"))


def page_of(client, account, **query):
    url = reverse("console:account_detail", args=[account.tenant.slug, account.uid])
    return client.get(url, query)


def section(body: str, element_id: str) -> str:
    """The HTML from the element with `element_id` to the end of its card or block."""
    start = body.index(f'id="{element_id}"')
    ends = [body.find(end, start) for end in ("</article>", "</section>", "</div>\n    <div")]
    return body[start : min(e for e in ends if e > 0)]


def test_the_summary_says_why_the_person_cannot_sign_in(agent_client, agent, tenant):
    account = busy_account(tenant, agent)
    lock = AccountLockout.objects.get(account=account)
    failures = LoginFailureCounter.objects.get(account=account).failure_count
    body = page_of(agent_client, account).content.decode()
    status = section(body, "summary-status")
    assert "Locked" in status and "too many wrong passwords" in status
    assert f"{lock.created:%Y-%m-%d %H:%M} UTC" in status
    failed = section(body, "summary-failures")
    assert f"<strong>{failures}</strong>" in failed
    assert "locked" in failed and "203.0.113.9" in failed
    assert "Authenticator app" in section(body, "summary-factors")
    sessions = section(body, "summary-sessions")
    assert "Firefox on Linux" in sessions and "Chrome on Android" in sessions
    assert "expires" in sessions and "active" in sessions
    last = section(body, "summary-last-signin")
    assert "Chrome on Android" in last and "198.51.100.4" in last


def test_sign_in_history_lists_attempts_with_reason_device_and_ip(agent_client, agent, tenant):
    account = busy_account(tenant, agent)
    history = section(page_of(agent_client, account).content.decode(), "account-signins")
    rows = re.findall(r"<tr class=\"signin-(ok|refused)\">(.*?)</tr>", history, re.S)
    assert [kind for kind, _ in rows] == ["refused"] * 4 + ["ok"] * 2
    assert "locked" in rows[0][1] and "wrong password" in rows[1][1]
    assert "Firefox on Linux" in rows[1][1] and "203.0.113.9" in rows[1][1]
    assert "Chrome on Android" in rows[4][1] and "198.51.100.4" in rows[4][1]


def test_a_blocked_account_shows_who_blocked_it_and_offers_unblock_first(
    make_staff, console_client, tenant
):
    lead = make_staff("Lead", tenant, username="lee.lead")
    account = AccountFactory(tenant=tenant, first_name="Bo", last_name="Blocked")
    account_block(
        AccountBlock(reason="Chargeback fraud", ticket="RISK-1"),
        tenant=tenant,
        actor=Actor.staff(lead),
        account=account,
    )
    body = page_of(console_client(lead), account).content.decode()
    status = section(body, "summary-status")
    assert "Blocked" in status and "Chargeback fraud" in status and "agent lee.lead" in status
    head = section(body, "account-actions")
    menu = head[head.index('id="actions-menu"') :]
    primary = head[: head.index('id="actions-menu"')]
    assert 'id="action-unblock"' in primary
    assert 'id="action-block"' not in body  # a blocked account cannot be blocked again
    assert 'hx-get="/console/accounts/' in primary and 'hx-target="#dialog-slot"' in primary
    assert 'id="action-secure"' in menu
    assert body.rstrip().endswith("</html>") and '<div id="dialog-slot"></div>' in body


def test_a_locked_account_offers_unlock_first_and_the_rest_in_the_menu(
    make_staff, console_client, tenant
):
    admin = make_staff("Admin", tenant)
    account = busy_account(tenant, admin)
    head = section(page_of(console_client(admin), account).content.decode(), "account-actions")
    primary, menu = head.split('id="actions-menu"')
    assert 'id="action-unlock"' in primary and 'class="small primary-action"' in primary
    for name in ("block", "impersonate", "delete", "secure"):
        assert f'id="action-{name}"' in menu, name
        assert f'id="action-{name}"' not in primary, name
    assert "Danger zone" in menu


def test_an_active_unlocked_account_has_no_primary_state_action(agent_client, tenant):
    account = AccountFactory(tenant=tenant)
    head = section(page_of(agent_client, account).content.decode(), "account-actions")
    assert "primary-action" not in head
    assert 'id="action-block"' in head


def test_second_factors_list_those_set_up_and_one_line_for_the_rest(agent_client, tenant):
    account = AccountFactory(tenant=tenant)
    _make_totp(tenant, account)
    body = page_of(agent_client, account).content.decode()
    factors = section(body, "account-factors")
    assert factors.count("<tr>") == 1 and 'id="reset-totp"' in factors
    assert 'hx-get="/console/accounts/' in factors
    line = re.search(r'id="factors-not-set-up">(.*?)</p>', body).group(1)
    assert line.startswith("Not set up: SMS one-time codes, Email one-time codes")
    assert "Authenticator" not in line


def test_the_head_names_the_person_and_offers_a_copy_of_the_uid(agent_client, lead_client, tenant):
    account = AccountFactory(tenant=tenant, first_name="Ann", last_name="Lee", email="a@x.org")
    lead_body = page_of(lead_client, account).content.decode()
    assert '<li aria-current="page">Ann Lee</li>' in lead_body
    body = page_of(agent_client, account).content.decode()
    crumb = body[body.index('aria-label="breadcrumb"') :].split("</nav>")[0]
    # An Agent sees the name masked (the tenant's default), in the title too.
    assert '<li aria-current="page">A••• L•••</li>' in crumb and account.uid not in crumb
    assert "Ann Lee" not in body
    assert f'<code id="account-uid">{account.uid}</code>' in body
    assert 'data-copy="account-uid"' in body and 'id="account-uid-status"' in body
    nav = body[body.index('aria-label="Sections of this account"') :].split("</nav>")[0]
    for anchor in ("#summary", "#signins", "#sessions", "#mfa", "#timeline"):
        assert f'href="{anchor}"' in nav
        assert f'id="{anchor[1:]}"' in body


def test_the_timeline_reads_as_sentences_with_names_and_a_diff(
    agent_client, lead_client, agent, tenant
):
    account = busy_account(tenant, agent, lock=False)
    masked = page_of(agent_client, account).content.decode()
    masked_edit = masked[masked.index("Profile edited") :].split("</li>")[0]
    # The Agent reads the diff masked.
    assert re.search(r"FirstName</th><td>M•••</td><td>M•••</td>", masked_edit)
    assert "Maria" not in masked_edit and ">Mary<" not in masked_edit
    body = page_of(lead_client, account).content.decode()
    timeline = body[body.index('id="timeline-events"') :]
    assert "Password reset by agent lee.lead" in timeline
    assert "Profile edited by agent lee.lead" in timeline
    assert "Signed in (password sign-in)" in timeline
    assert account.uid not in timeline.split("</ol>")[0]
    edit = timeline[timeline.index("Profile edited") :].split("</li>")[0]
    assert "<summary>Changes (1)</summary>" in edit
    assert re.search(r"FirstName</th><td>Mary</td><td>Maria</td>", edit)
    assert "Reason: Name typo" in edit and "SUP-7" in edit


def test_an_account_actor_other_than_the_subject_is_named(agent_client, lead_client, tenant):
    from django.db import transaction

    from portal import audit

    helper = AccountFactory(tenant=tenant, first_name="Hal", last_name="Helper")
    account = AccountFactory(tenant=tenant, first_name="Sue", last_name="Subject")
    foreign = AccountFactory(tenant=TenantFactory(), first_name="Far", last_name="Away")
    with transaction.atomic():
        for actor in (helper, foreign):
            audit.record(
                tenant=tenant,
                actor=Actor.account(actor.uid),
                action="account.updated",
                subject_uid=account.uid,
                changes={"FirstName": ["Su", "Sue"]},
            )
    masked = page_of(agent_client, account).content.decode().split('id="timeline-events"')[1]
    assert "Profile updated by H••• H•••" in masked and "Hal Helper" not in masked
    timeline = page_of(lead_client, account).content.decode().split('id="timeline-events"')[1]
    assert "Profile updated by Hal Helper" in timeline
    # Another tenant's account is not looked up: its UID stays a UID.
    assert "Far Away" not in timeline and foreign.uid[:8] in timeline


def test_the_timeline_filters_by_kind_and_actor(agent_client, agent, tenant):
    account = busy_account(tenant, agent, lock=False)
    only_security = page_of(agent_client, account, kind="security").content.decode()
    events = only_security.split('id="timeline-events"')[1].split("</ol>")[0]
    assert "Password reset" in events and "Signed in" not in events
    assert "Profile edited" not in events
    by_agent = page_of(agent_client, account, actor=f"staff:{agent.pk}").content.decode()
    events = by_agent.split('id="timeline-events"')[1].split("</ol>")[0]
    assert (
        events.count('class="timeline-event"')
        == AuditEvent.objects.filter(
            subject_uid=account.uid, actor_type="staff", actor_id=str(agent.pk)
        ).count()
    )
    assert "Signed in" not in events
    assert f'<option value="staff:{agent.pk}" selected>agent lee.lead</option>' in by_agent
    nothing = page_of(agent_client, account, kind="roles").content.decode()
    assert "No event matches these filters." in nothing


def test_a_filter_that_is_not_understood_is_said_and_every_event_shown(agent_client, agent, tenant):
    account = busy_account(tenant, agent, lock=False)
    response = page_of(agent_client, account, kind="<script>", before="x")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="timeline-error"' in body and "<script>" not in body.split("<main")[1]
    assert (
        body.count('class="timeline-event"')
        == AuditEvent.objects.filter(subject_uid=account.uid).count()
    )


def test_the_timeline_pages_beyond_the_last_50_events(agent_client, tenant):
    from django.db import transaction

    from portal import audit

    account = AccountFactory(tenant=tenant, first_name="Pat", last_name="Paged")
    with transaction.atomic():
        for i in range(62):
            audit.record(
                tenant=tenant,
                actor=Actor.system("import"),
                action="account.updated",
                subject_uid=account.uid,
                reason=f"change {i:02d}",
            )
    total = AuditEvent.objects.filter(tenant=tenant, subject_uid=account.uid).count()
    first = page_of(agent_client, account).content.decode()
    assert first.count('class="timeline-event"') == 50
    older = re.search(r'hx-get="([^"]*fragment=timeline[^"]*before=(\d+))"', first)
    assert older, "an htmx link to the older events"
    fragment = agent_client.get(older.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true")
    rest = fragment.content.decode()
    assert "<html" not in rest and rest.count('class="timeline-event"') == total - 50
    assert "Older events" not in rest
    assert "Reason: change 00" in rest and "Reason: change 61" not in rest
    # Without htmx the same link opens the page at the older events.
    full = page_of(agent_client, account, before=older.group(2)).content.decode()
    assert full.count('class="timeline-event"') == total - 50
    assert "Back to the newest events" in full


def test_a_filter_change_answers_the_timeline_alone(agent_client, agent, tenant):
    account = busy_account(tenant, agent, lock=False)
    response = page_of(agent_client, account, fragment="timeline", kind="signin")
    body = response.content.decode()
    assert response.wsgi_request.htmx is not None
    fragment = agent_client.get(
        reverse("console:account_detail", args=[tenant.slug, account.uid]),
        {"fragment": "timeline", "kind": "signin"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "<html" not in fragment and 'id="timeline-events"' in fragment
    assert "Signed in" in fragment and "Password reset" not in fragment
    assert "<html" in body  # without htmx the whole page answers


def test_another_tenants_account_is_not_found(agent_client, tenant):
    other = AccountFactory(tenant=TenantFactory())
    url = reverse("console:account_detail", args=[tenant.slug, other.uid])
    assert agent_client.get(url).status_code == 404
    assert (
        agent_client.get(url, {"fragment": "timeline"}, HTTP_HX_REQUEST="true").status_code == 404
    )


def test_every_event_of_a_busy_account_has_a_short_name_and_a_kind(agent, tenant):
    account = busy_account(tenant, agent)
    actions = set(
        AuditEvent.objects.filter(subject_uid=account.uid).values_list("action", flat=True)
    )
    assert len(actions) >= 8
    for action in actions:
        assert action in event_names.EVENT_NAMES, action
        assert event_names.event_kind(action) in event_names.KIND_LABELS, action
    for name in event_names.EVENT_NAMES:
        assert event_names.event_kind(name) in event_names.KIND_LABELS, name


def test_the_page_costs_the_same_queries_however_much_the_account_holds(
    agent_client, agent, tenant
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.console.test_account_actions import _make_session

    account = busy_account(tenant, agent)
    page_of(agent_client, account)
    with CaptureQueriesContext(connection) as first:
        assert page_of(agent_client, account).status_code == 200
    assert len(first.captured_queries) <= QUERY_BUDGET
    for _ in range(4):
        _make_session(tenant, account)
        sign_in_attempt(tenant, "maria.garcia@example.com", "Wrong-password-2")
    record_create(
        RecordCreate(data={"more": 1}),
        tenant=tenant,
        actor=Actor.system("t"),
        object_type=CustomObjectRecord.objects.get(account=account).object_type,
        account=account,
    )
    with CaptureQueriesContext(connection) as second:
        assert page_of(agent_client, account).status_code == 200
    assert len(second.captured_queries) == len(first.captured_queries)


# Ten for the staff session, its second factor and permissions; fourteen for the page itself.
QUERY_BUDGET = 24
