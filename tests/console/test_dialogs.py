"""Account actions asked for by htmx answer a confirmation dialog in place; the same URLs
still work as full pages without script. The ticket of the last action is offered again for
the rest of the sign-in, and the tenant's reason presets fill the reason."""

import re

import pytest
from django.urls import reverse

from portal.audit import Actor
from portal.console.actions.views import LAST_TICKET_SESSION_KEY
from portal.models import AuditEvent, ReasonPreset
from security.models import AccountLockout
from tests.factories import AccountFactory, AccountLockoutFactory
from tokens.models import TokenFamily

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(account, action):
    return reverse("console:account_action", args=[account.tenant.slug, account.uid, action])


def detail_url(account):
    return reverse("console:account_detail", args=[account.tenant.slug, account.uid])


@pytest.fixture
def agent(make_staff, console_client, tenant):
    return console_client(make_staff("Agent", tenant))


def _session(account, user_agent):
    from tokens.commands import SessionIssue
    from tokens.services.sessions import session_issue

    command = SessionIssue(device={"ip": "203.0.113.9", "user_agent": user_agent})
    return session_issue(
        command, tenant=account.tenant, account=account, actor=Actor.account(account.uid)
    )


FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"


def test_an_htmx_get_answers_a_dialog_naming_the_action_and_the_person(agent, tenant):
    account = AccountFactory(tenant=tenant, first_name="Maria", last_name="Garcia")
    for _ in range(3):
        _session(account, FIREFOX_LINUX)
    response = agent.get(url(account, "sessions_revoke_all"), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<dialog id="action-dialog"')
    assert "<html" not in html  # a fragment, not a page
    assert 'aria-labelledby="action-dialog-title"' in html
    assert 'aria-describedby="action-dialog-what"' in html
    # An Agent reads the person masked in the dialog's title (the tenant's default).
    assert re.search(r'id="action-dialog-title">Revoke all sessions — M••• G•••<', html)
    assert "Maria" not in html
    assert "Ends 3 sessions: Firefox on Linux, Firefox on Linux, Firefox on Linux." in html
    assert f'hx-post="{url(account, "sessions_revoke_all")}"' in html
    assert 'name="confirmed" value="True"' in html


def test_without_htmx_the_same_url_is_the_full_page(agent, tenant):
    account = AccountFactory(tenant=tenant, first_name="Maria", last_name="Garcia")
    response = agent.get(url(account, "sessions_revoke_all"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and 'id="action-dialog"' not in html
    assert "Revoke all sessions — M••• G•••" in html and "Maria" not in html
    assert 'id="review-action"' in html  # the two-step page: review, then confirm


def test_a_dialog_confirm_runs_the_action_and_redirects_htmx_to_the_account(agent, tenant):
    account = AccountLockoutFactory(account__tenant=tenant).account
    response = agent.post(
        url(account, "unlock"),
        {"reason": "Caller verified", "ticket": "SUP-77", "confirmed": "True"},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == detail_url(account)
    assert not AccountLockout.objects.filter(account=account).exists()
    event = AuditEvent.objects.get(subject_uid=account.uid, action="account.unlocked")
    assert (event.reason, event.ticket) == ("Caller verified", "SUP-77")


def test_a_refused_dialog_form_comes_back_as_the_dialog_with_its_errors(agent, tenant):
    account = AccountLockoutFactory(account__tenant=tenant).account
    events_before = AuditEvent.objects.count()
    response = agent.post(url(account, "unlock"), {"reason": "", "confirmed": "True"}, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert html.lstrip().startswith('<dialog id="action-dialog"')
    assert 'role="alert"' in html and 'id="action-errors"' in html
    assert '<a href="#id_reason">Reason: This field is required' in html
    # The textarea points at the error that exists on the page, and says it is invalid.
    textarea = re.search(r"<textarea[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in textarea
    described = re.search(r'aria-describedby="([^"]+)"', textarea).group(1).split()
    assert "id_reason_error" in described
    for target in described:
        assert f'id="{target}"' in html
    assert AccountLockout.objects.filter(account=account).exists()
    assert AuditEvent.objects.count() == events_before


def test_an_action_that_no_longer_applies_answers_a_notice_dialog(agent, tenant):
    account = AccountFactory(tenant=tenant)  # not locked
    response = agent.get(url(account, "unlock"), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="action-dialog"' in html and "This account is not locked." in html
    assert "<form" not in html
    response = agent.post(url(account, "unlock"), {"reason": "x", "confirmed": "True"}, **HTMX)
    assert response.status_code == 409
    assert "Nothing was changed." in response.content.decode()


def test_a_secret_is_shown_once_inside_the_dialog(agent, tenant):
    from security.models import BackupCode

    account = AccountFactory(tenant=tenant)
    response = agent.post(
        url(account, "backup_codes"), {"reason": "Lost codes", "confirmed": "True"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert 'id="action-dialog"' in html and 'id="secret-values"' in html
    assert html.count('class="secret"') == 10
    assert BackupCode.objects.filter(account=account).count() == 10


def test_the_ticket_is_remembered_for_the_rest_of_the_sign_in(agent, tenant):
    first = AccountLockoutFactory(account__tenant=tenant).account
    second = AccountFactory(tenant=tenant)
    assert 'value="SUP-9"' not in agent.get(url(second, "block"), **HTMX).content.decode()
    agent.post(
        url(first, "unlock"), {"reason": "verified", "ticket": "SUP-9", "confirmed": "True"}, **HTMX
    )
    assert agent.session[LAST_TICKET_SESSION_KEY] == "SUP-9"
    for headers in (HTMX, {}):  # the dialog and the full page both offer it
        html = agent.get(url(second, "block"), **headers).content.decode()
        assert re.search(r'<input[^>]*name="ticket"[^>]*value="SUP-9"', html)
    agent.post(reverse("console:logout"))
    assert LAST_TICKET_SESSION_KEY not in agent.session


def test_a_refused_action_does_not_remember_its_ticket(agent, tenant):
    account = AccountLockoutFactory(account__tenant=tenant).account
    agent.post(url(account, "unlock"), {"reason": "", "ticket": "SUP-1", "confirmed": "True"})
    assert LAST_TICKET_SESSION_KEY not in agent.session


def test_the_dialog_offers_the_tenants_presets_and_a_picked_one_is_the_reason(
    agent, tenant, other_tenant
):
    ours = ReasonPreset.objects.create(tenant=tenant, label="Verified", text="Caller verified.")
    ReasonPreset.objects.create(tenant=other_tenant, label="Theirs", text="Not ours.")
    account = AccountLockoutFactory(account__tenant=tenant).account
    html = agent.get(url(account, "unlock"), **HTMX).content.decode()
    # The only (so the first) preset comes picked, its text in the reason.
    assert (
        f'<option value="{ours.pk}" data-text="Caller verified." selected>Verified</option>' in html
    )
    assert "Theirs" not in html
    assert 'data-fills="id_reason"' in html
    # Without script, the picked preset's text is recorded as the reason.
    response = agent.post(
        url(account, "unlock"), {"preset": str(ours.pk), "reason": "", "confirmed": "True"}, **HTMX
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(subject_uid=account.uid, action="account.unlocked")
    assert event.reason == "Caller verified."


def test_a_typed_reason_wins_over_a_picked_preset(agent, tenant):
    preset = ReasonPreset.objects.create(tenant=tenant, label="Verified", text="Caller verified.")
    account = AccountLockoutFactory(account__tenant=tenant).account
    agent.post(
        url(account, "unlock"),
        {"preset": str(preset.pk), "reason": "Edited reason", "confirmed": "True"},
        **HTMX,
    )
    assert AuditEvent.objects.get(subject_uid=account.uid, action="account.unlocked").reason == (
        "Edited reason"
    )


def test_another_tenants_preset_is_refused_and_changes_nothing(agent, tenant, other_tenant):
    theirs = ReasonPreset.objects.create(tenant=other_tenant, label="Theirs", text="Not ours.")
    ReasonPreset.objects.create(tenant=tenant, label="Ours", text="Ours.")
    account = AccountLockoutFactory(account__tenant=tenant).account
    response = agent.post(
        url(account, "unlock"),
        {"preset": str(theirs.pk), "reason": "", "confirmed": "True"},
        **HTMX,
    )
    assert response.status_code == 400
    assert AccountLockout.objects.filter(account=account).exists()


def test_a_viewer_gets_no_dialog_and_nothing_changes(make_staff, console_client, tenant):
    viewer = console_client(make_staff("Viewer", tenant))
    account = AccountFactory(tenant=tenant)
    _session(account, FIREFOX_LINUX)
    response = viewer.get(url(account, "sessions_revoke_all"), **HTMX)
    assert response.status_code == 403
    assert 'id="action-dialog"' not in response.content.decode()
    response = viewer.post(
        url(account, "sessions_revoke_all"), {"reason": "x", "confirmed": "True"}, **HTMX
    )
    assert response.status_code == 403
    assert TokenFamily.objects.filter(account=account, revoked_at__isnull=True).count() == 1


def test_the_first_preset_comes_picked_and_the_agent_may_change_or_clear_it(agent, tenant):
    ReasonPreset.objects.create(tenant=tenant, label="B: Lost phone", text="Lost phone.")
    first = ReasonPreset.objects.create(tenant=tenant, label="A: Verified", text="Caller verified.")
    account = AccountLockoutFactory(account__tenant=tenant).account
    html = agent.get(url(account, "unlock"), **HTMX).content.decode()
    assert f'<option value="{first.pk}" data-text="Caller verified." selected>' in html
    assert ">\nCaller verified.</textarea>" in html
    assert html.count(" selected>") == 1
    # A reason the agent typed instead is what is recorded.
    response = agent.post(
        url(account, "unlock"),
        {"preset": str(first.pk), "reason": "Locked out at the till", "confirmed": "True"},
        **HTMX,
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(subject_uid=account.uid, action="account.unlocked")
    assert event.reason == "Locked out at the till"


def test_without_presets_the_reason_starts_empty(agent, tenant):
    account = AccountLockoutFactory(account__tenant=tenant).account
    html = agent.get(url(account, "unlock"), **HTMX).content.decode()
    assert "Reason preset" not in html
    assert ">\n</textarea>" in html
