"""Masked personal data: Viewer and Agent (as the tenant chooses) see emails, phone numbers,
names and chosen custom fields masked in every exit (pages, dialog titles, the typeahead,
the timeline and audit log, CSV, error sentences, the native API for staff credentials); a
reveal asks for a reason, records one event and shows the values for that answer only; the
typeahead of a masked reader matches whole values only; search text stays out of URLs and
logs."""

import csv
import io
import logging

import pytest
from django.urls import reverse

from accounts.commands import AccountChanges
from accounts.models import AccountEmail
from accounts.services import account_update
from portal import masking
from portal.audit import Actor
from portal.models import ApiCredential, AuditEvent
from tests.conftest import LRClient
from tests.factories import AccountFactory, ApiCredentialFactory

pytestmark = pytest.mark.django_db

EMAIL = "maria.garcia@example.com"
PHONE = "+14155550123"
SEARCH = reverse("console:account_search")
TYPEAHEAD = reverse("console:account_typeahead")


@pytest.fixture
def maria(tenant):
    return AccountFactory(
        tenant=tenant,
        first_name="Maria",
        last_name="Garcia",
        email=EMAIL,
        phone_id=PHONE,
        custom_fields={"ssn": "123-45-6789", "plan": "gold"},
    )


@pytest.fixture
def as_role(make_staff, console_client, tenant):
    def make(role: str, **kwargs):
        return console_client(make_staff(role, tenant, **kwargs))

    return make


def _page(client, account):
    return client.get(reverse("console:account_detail", args=[account.tenant.slug, account.uid]))


def _reveal_url(account):
    return reverse("console:account_reveal", args=[account.tenant.slug, account.uid])


def _set(tenant, **values):
    tenant.settings = {**tenant.settings, **values}
    tenant.save(update_fields=["settings"])


# The masks themselves.


def test_the_masks_keep_only_what_identifies_nothing():
    assert masking.mask_email("maria.garcia@example.com") == "ma•••@example.com"
    assert masking.mask_email("al@x.org") == "a•••@x.org"
    assert masking.mask_phone("+14155550123") == "+1 415 •••• 123"
    assert masking.mask_phone("+1 (415) 555-0123") == "+1 415 •••• 123"
    assert masking.mask_phone("+442071838750") == "+44 20 •••• 750"
    # The first group stays only while four digits are still hidden.
    assert masking.mask_phone("+919876543210") == "+91 •••• 210"
    assert masking.mask_phone("4155550123") == "•••• 123"  # no country code to trust
    assert masking.mask_name("Maria Garcia") == "M••• G•••"


def test_masked_roles_and_custom_fields_come_from_the_tenant_settings():
    default = {"masked_roles": ["viewer", "agent"], "masked_custom_fields": "ssn, dob"}
    assert masking.masking_for(role="Agent", settings=default).masked
    assert masking.masking_for(role="Viewer", settings=default).custom_fields == {"ssn", "dob"}
    assert not masking.masking_for(role="Lead", settings=default).masked
    assert not masking.masking_for(role="Agent", settings={"masked_roles": []}).masked


# Pages and dialog titles.


@pytest.mark.parametrize(
    ("role", "masked"), [("Viewer", True), ("Agent", True), ("Lead", False), ("Admin", False)]
)
def test_the_account_page_is_masked_for_viewer_and_agent_only(as_role, maria, role, masked):
    body = _page(as_role(role), maria).content.decode()
    full = ("Maria Garcia", EMAIL, PHONE)
    shown = ("M••• G•••", "ma•••@example.com", "+1 415 •••• 123")
    if masked:
        assert all(value in body for value in shown)
        assert not any(value in body for value in full)
        assert ">Maria<" not in body and ">Garcia<" not in body
        assert 'id="action-reveal"' in body
    else:
        assert all(value in body for value in full)
        assert "•••" not in body and 'id="action-reveal"' not in body


def test_the_tenant_chooses_the_masked_roles(as_role, maria, tenant):
    _set(tenant, masked_roles=["lead"])
    assert EMAIL in _page(as_role("Agent"), maria).content.decode()
    lead_page = _page(as_role("Lead"), maria).content.decode()
    assert EMAIL not in lead_page and "ma•••@example.com" in lead_page


def test_the_email_links_of_a_masked_page_carry_no_address(as_role, maria):
    agent = as_role("Agent")
    body = _page(agent, maria).content.decode()
    email = maria.emails.get()
    assert f"?email={email.pk}" in body and "maria.garcia" not in body
    # The action's own form offers the address by its row, masked, and still runs.
    dialog = agent.get(
        reverse("console:account_action", args=[maria.tenant.slug, maria.uid, "send_verification"]),
        {"email": email.pk},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "maria.garcia" not in dialog
    assert "M••• G•••" in dialog  # the dialog's title


def test_a_dialog_title_is_masked_for_an_agent(as_role, maria):
    url = reverse("console:account_action", args=[maria.tenant.slug, maria.uid, "block"])
    dialog = as_role("Agent").get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="action-dialog-title">Block account — M••• G•••<' in dialog or (
        "— M••• G•••</h2>" in dialog
    )
    assert "Maria" not in dialog
    lead_dialog = as_role("Lead").get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "— Maria Garcia</h2>" in lead_dialog


def test_the_profile_form_of_a_masked_reader_keeps_names_left_as_shown(as_role, maria):
    agent = as_role("Agent")
    url = reverse("console:account_action", args=[maria.tenant.slug, maria.uid, "edit_profile"])
    form = agent.get(url).content.decode()
    assert 'value="M•••"' in form and "Maria" not in form
    response = agent.post(
        url,
        {
            "first_name": "M•••",
            "last_name": "Garcia-Lopez",
            "reason": "Name change",
            "confirmed": "True",
            "version": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    maria.refresh_from_db()
    assert (maria.first_name, maria.last_name) == ("Maria", "Garcia-Lopez")


def test_an_error_sentence_quoting_an_address_is_masked(as_role, maria):
    AccountEmail.objects.create(
        tenant=maria.tenant, account=maria, type="Secondary", value="maria@work.example"
    )
    url = reverse("console:account_action", args=[maria.tenant.slug, maria.uid, "email_remove"])
    response = as_role("Agent").post(
        url, {"email": "someone.else@example.com", "reason": "r", "confirmed": "True"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "so•••@example.com" in body and "someone.else" not in body


# The typeahead: exact matches only for a masked reader.


def _typeahead(client, q):
    return client.post(TYPEAHEAD, {"q": q}, HTTP_HX_REQUEST="true").content.decode()


def test_the_typeahead_of_a_masked_reader_matches_whole_values_only(as_role, maria):
    agent = as_role("Agent")
    for prefix in ("maria.gar", "Maria", "Garc", "+1415555", maria.uid[:10]):
        body = _typeahead(agent, prefix)
        assert "data-account" not in body, prefix
        assert "named exactly" in body
    for whole in (EMAIL, "MARIA.GARCIA@example.com", PHONE, maria.uid, "maria garcia"):
        body = _typeahead(agent, whole)
        assert body.count("data-account") == 1, whole
        option = body[body.index("data-account>") :].split("</a>")[0]
        assert "M••• G•••" in option and "ma•••@example.com" in option
        assert "Maria" not in option and "maria.garcia@" not in option


def test_the_typeahead_of_a_full_reader_still_matches_fragments(as_role, maria):
    body = _typeahead(as_role("Lead"), "maria.gar")
    assert body.count("data-account") == 1 and EMAIL in body


# The timeline, the audit log and its CSV.


@pytest.fixture
def edited(maria, tenant):
    _set(tenant, masked_custom_fields="ssn")
    maria.refresh_from_db()
    account_update(
        AccountChanges(
            values={"FirstName": "Mariana", "PhoneId": "+14155550999"},
            custom_fields={"ssn": "987-65-4321", "plan": "silver"},
            reason="Customer asked; call back on +14155550123",
        ),
        tenant=tenant,
        actor=Actor.system("test"),
        account=maria,
    )
    return AuditEvent.objects.get(subject_uid=maria.uid, action="account.updated")


def test_the_timeline_and_the_event_page_show_the_diff_masked(as_role, maria, edited):
    agent = as_role("Agent")
    timeline = _page(agent, maria).content.decode().split('id="timeline-events"')[1]
    event_page = agent.get(reverse("console:audit_event", args=[edited.pk])).content.decode()
    for body in (timeline, event_page):
        assert "Mariana" not in body and "M•••" in body
        assert "+14155550999" not in body and "+1 415 •••• 999" in body
        assert "987-65-4321" not in body and "123-45-6789" not in body  # a masked custom field
        assert "silver" in body  # not a masked custom field
        assert "+14155550123" not in body and "call back on +1 415 •••• 123" in body
    lead = as_role("Lead").get(reverse("console:audit_event", args=[edited.pk])).content.decode()
    assert "Mariana" in lead and "987-65-4321" in lead and "+14155550999" in lead


def _csv_rows(response):
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_audit_csv_is_masked_for_a_viewer_and_full_for_a_lead(as_role, maria, edited):
    [row] = [
        r
        for r in _csv_rows(as_role("Viewer").get(reverse("console:audit_export")))
        if r["action"] == "account.updated"
    ]
    for secret in ("Mariana", "+14155550999", "987-65-4321", "+14155550123"):
        assert secret not in row["diff"] + row["reason"], secret
    assert "M•••" in row["diff"] and "+1 415 •••• 999" in row["diff"]
    [full] = [
        r
        for r in _csv_rows(as_role("Lead").get(reverse("console:audit_export")))
        if r["action"] == "account.updated"
    ]
    assert "Mariana" in full["diff"] and "987-65-4321" in full["diff"]


def test_the_audit_log_reads_names_masked(as_role, maria, edited):
    log = as_role("Viewer").get(reverse("console:audit_log")).content.decode()
    assert "M••• G•••" in log and "Maria Garcia" not in log and "+14155550123" not in log


# Reveal.


def test_reveal_asks_for_a_reason_in_a_dialog(as_role, maria):
    dialog = as_role("Agent").get(_reveal_url(maria), HTTP_HX_REQUEST="true")
    body = dialog.content.decode()
    assert dialog.status_code == 200 and body.lstrip().startswith('<dialog id="action-dialog"')
    assert "Reveal personal data — M••• G•••" in body and 'name="reason"' in body
    assert "Maria" not in body
    assert "hx-post" not in body  # a plain post: the answer is the revealed page itself


def test_reveal_without_a_reason_shows_nothing_and_records_nothing(as_role, maria):
    before = AuditEvent.objects.count()
    response = as_role("Agent").post(_reveal_url(maria), {"reason": "  "})
    assert response.status_code == 400
    assert EMAIL not in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_reveal_records_one_event_and_shows_the_values_for_this_answer_only(as_role, maria):
    agent = as_role("Agent", username="ann.agent")
    before = AuditEvent.objects.count()
    response = agent.post(_reveal_url(maria), {"reason": "Caller verified", "ticket": "SUP-9"})
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    for value in ("Maria Garcia", EMAIL, PHONE):
        assert value in body
    assert 'id="revealed-note"' in body
    [event] = AuditEvent.objects.filter(id__gt=0).order_by("-id")[:1]
    assert AuditEvent.objects.count() == before + 1
    assert (event.action, event.subject_uid, event.reason, event.ticket) == (
        "account.personal_data_revealed",
        maria.uid,
        "Caller verified",
        "SUP-9",
    )
    assert event.actor_label == "ann.agent"
    # The event names what was shown, never the values.
    assert EMAIL not in str(event.diff) and "Maria" not in str(event.diff)
    # Nothing is kept: the next page view is masked again.
    again = _page(agent, maria).content.decode()
    assert EMAIL not in again and "ma•••@example.com" in again
    stored = dict(agent.session.items())
    assert not any("reveal" in key for key in stored)


def test_a_full_reader_is_sent_back_to_the_page_and_nothing_is_recorded(as_role, maria):
    before = AuditEvent.objects.count()
    response = as_role("Lead").post(_reveal_url(maria), {"reason": "why not"})
    assert response.status_code == 302
    assert AuditEvent.objects.count() == before


def test_reveal_access_matrix(client, as_role, make_staff, console_client, maria, other_tenant):
    url = _reveal_url(maria)
    before = AuditEvent.objects.count()
    # Anonymous: sign in first.
    for response in (client.get(url), client.post(url, {"reason": "r"})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("console:login"))
    # Staff of another tenant only: nothing here exists.
    outsider = console_client(make_staff("Agent", other_tenant))
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"reason": "r"}).status_code == 404
    # A staff member without a role: refused.
    assert (
        console_client(make_staff(None, maria.tenant)).post(url, {"reason": "r"}).status_code == 403
    )
    assert AuditEvent.objects.count() == before
    # The masked roles may reveal; the others already see everything.
    for role, status in (("Viewer", 200), ("Agent", 200), ("Lead", 302), ("Admin", 302)):
        reader = as_role(role)
        assert reader.get(url).status_code == status, role
        assert reader.post(url, {"reason": "Caller verified"}).status_code == status, role
    assert AuditEvent.objects.count() == before + 2


# Search values stay out of URLs and logs.


def test_a_search_posts_its_text_and_no_url_or_log_line_carries_it(as_role, maria, caplog):
    _set(maria.tenant, masked_roles=[])
    agent = as_role("Agent")
    AccountFactory(tenant=maria.tenant, first_name="Maria", last_name="Other")
    with caplog.at_level(logging.DEBUG):
        posted = agent.post(SEARCH, {"q": "maria", "blocked": "no"})
        results = agent.get(posted["Location"])
        _typeahead(agent, "maria gar")
        legacy = agent.get(SEARCH, {"q": "maria"})
    assert posted.status_code == 302 and "maria" not in posted["Location"].lower()
    assert "blocked=no" in posted["Location"]  # filters are no personal data
    assert results.status_code == 200 and b"<strong>2</strong> accounts found" in results.content
    # An old link with the text in it moves it out of the address at once.
    assert legacy.status_code == 302 and "maria" not in legacy["Location"].lower()
    page = results.content.decode()
    assert "q=maria" not in page and "?q=" not in page
    assert not any("maria" in r.getMessage().lower() for r in caplog.records if "access" in r.name)
    assert not any("maria gar" in r.getMessage().lower() for r in caplog.records)


def test_the_search_forms_post(as_role):
    body = as_role("Agent").get(SEARCH).content.decode()
    assert '<form method="post" action="/console/accounts/" class="search-form"' in body
    assert f'hx-post="{TYPEAHEAD}"' in body
    assert 'hx-get="/console/accounts/typeahead/"' not in body


# The native API for staff-facing credentials.


def test_a_staff_facing_credential_reads_accounts_masked(maria, tenant):
    _set(tenant, masked_custom_fields="ssn")
    staff_tool = LRClient(ApiCredentialFactory(tenant=tenant, masks_personal_data=True))
    backend = LRClient(ApiCredentialFactory(tenant=tenant))
    masked = staff_tool.get(f"/api/v1/accounts/{maria.uid}").json()
    assert masked["first_name"] == "M•••" and masked["full_name"] in ("M••• G•••", None)
    assert masked["email"][0]["value"] == "ma•••@example.com"
    assert masked["phone_id"] == "+1 415 •••• 123"
    assert masked["custom_fields"] == {"ssn": "•••", "plan": "gold"}
    full = backend.get(f"/api/v1/accounts/{maria.uid}").json()
    assert full["email"][0]["value"] == EMAIL and full["custom_fields"]["ssn"] == "123-45-6789"
    listed = staff_tool.get("/api/v1/accounts", {"q": EMAIL}).content.decode()
    assert EMAIL not in listed and PHONE not in listed


def test_the_flag_is_set_where_approval_is_set(tenant, as_role):
    admin = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["admin"]))
    created = admin.post(
        "/api/v1/credentials", {"label": "support tool", "masks_personal_data": True}
    )
    assert created.status_code == 201, created.content
    assert created.json()["masks_personal_data"] is True
    assert ApiCredential.objects.get(pk=created.json()["id"]).masks_personal_data
    event = AuditEvent.objects.filter(action="credential.created").latest("id")
    assert event.diff["masks_personal_data"] == [None, True]
    bad = admin.post("/api/v1/credentials", {"masks_personal_data": "yes"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "masks_personal_data"
    console = as_role("Admin")
    response = console.post(
        reverse("console:credential_create", args=[tenant.slug]),
        {"label": "console tool", "masks_personal_data": "on"},
    )
    assert response.status_code == 200
    assert ApiCredential.objects.get(label="console tool").masks_personal_data
