from html.parser import HTMLParser

import pytest
from django.urls import reverse

from portal import staff, tenant_settings
from portal.models import ApiCredential, AuditEvent, Tenant
from tests.factories import ApiCredentialFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_staff, tenant):
    return make_staff("Admin", tenant)


@pytest.fixture
def admin_client(admin, console_client):
    return console_client(admin)


def test_admin_sees_the_tenants_screen(admin_client, tenant):
    page = admin_client.get(reverse("console:tenant_list"))
    assert page.status_code == 200 and tenant.name.encode() in page.content
    detail = admin_client.get(reverse("console:tenant_detail", args=[tenant.slug]))
    assert detail.status_code == 200
    assert b"API secrets" in detail.content and b"Staff access" in detail.content


def test_create_tenant_shows_its_secret_once_and_grants_the_creator(admin_client, admin):
    response = admin_client.post(reverse("console:tenant_list"), {"name": "Globex"})
    assert response.status_code == 200
    tenant = Tenant.objects.get(name="Globex")
    credential = ApiCredential.objects.get(tenant=tenant)
    raw = credential.raw_secret()
    assert raw.encode() in response.content
    assert response["Cache-Control"] == "no-store"
    assert staff.staff_can(user=admin, tenant=tenant, permission="administer_tenant")
    detail = admin_client.get(reverse("console:tenant_detail", args=[tenant.slug]))
    assert raw.encode() not in detail.content
    assert credential.secret_hint.encode() in detail.content
    assert AuditEvent.objects.filter(tenant=tenant, action="tenant.created").exists()


def test_rotate_shows_the_new_secret_exactly_once(admin_client, tenant):
    old = ApiCredentialFactory(tenant=tenant)
    response = admin_client.post(
        reverse("console:credential_rotate", args=[tenant.slug]),
        {"credential": old.pk, "overlap_hours": 0, "reason": "leaked", "confirmed": "True"},
    )
    assert response.status_code == 200
    new = ApiCredential.objects.filter(tenant=tenant).exclude(pk=old.pk).get()
    assert new.raw_secret().encode() in response.content
    old.refresh_from_db()
    assert old.revoked_at is not None
    page = admin_client.get(reverse("console:tenant_detail", args=[tenant.slug]))
    assert new.raw_secret().encode() not in page.content
    assert old.raw.encode() not in page.content


def test_rotate_with_overlap_keeps_the_old_secret_until_then(admin_client, tenant):
    old = ApiCredentialFactory(tenant=tenant)
    admin_client.post(
        reverse("console:credential_rotate", args=[tenant.slug]),
        {"credential": old.pk, "overlap_hours": 24, "reason": "yearly", "confirmed": "True"},
    )
    old.refresh_from_db()
    assert old.revoked_at is None and old.expires_at is not None


def test_create_and_revoke_a_secret(admin_client, tenant):
    response = admin_client.post(
        reverse("console:credential_create", args=[tenant.slug]),
        {"label": "billing", "scopes": ["accounts"]},
    )
    credential = ApiCredential.objects.get(tenant=tenant, label="billing")
    assert credential.scopes == ["accounts"]
    assert credential.raw_secret().encode() in response.content
    missing_reason = admin_client.post(
        reverse("console:credential_revoke", args=[tenant.slug, credential.pk]), {}
    )
    assert missing_reason.status_code == 302
    credential.refresh_from_db()
    assert credential.revoked_at is None
    admin_client.post(
        reverse("console:credential_revoke", args=[tenant.slug, credential.pk]),
        {"reason": "leaked"},
    )
    credential.refresh_from_db()
    assert credential.revoked_at is not None
    assert AuditEvent.objects.get(tenant=tenant, action="credential.revoked").reason == "leaked"


def test_credential_of_another_tenant_is_not_found(admin_client, tenant, other_tenant):
    theirs = ApiCredentialFactory(tenant=other_tenant)
    response = admin_client.post(
        reverse("console:credential_revoke", args=[tenant.slug, theirs.pk]), {"reason": "x"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_settings_are_saved_through_the_service(admin_client, tenant):
    url = reverse("console:tenant_settings", args=[tenant.slug])
    data = {name: tenant.setting(name) for name in ("access_token_lifetime_minutes",)}
    from portal.models import TENANT_SETTING_DEFAULTS

    data = dict(TENANT_SETTING_DEFAULTS)
    data.update(lockout_threshold=3, reason="policy")
    response = admin_client.post(url, data)
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.settings == {"lockout_threshold": 3}
    event = AuditEvent.objects.get(tenant=tenant, action="tenant.updated")
    assert event.diff == {"lockout_threshold": [None, 3]} and event.reason == "policy"


def test_invalid_settings_change_nothing(admin_client, tenant):
    from portal.models import TENANT_SETTING_DEFAULTS

    data = dict(TENANT_SETTING_DEFAULTS)
    data["lockout_threshold"] = "-5"
    response = admin_client.post(reverse("console:tenant_settings", args=[tenant.slug]), data)
    assert response.status_code == 400
    tenant.refresh_from_db()
    assert tenant.settings == {}


def test_grant_and_revoke_staff_access(admin_client, make_staff, tenant):
    agent = make_staff("Agent")
    url = reverse("console:staff_grant", args=[tenant.slug])
    admin_client.post(url, {"user": agent.username, "permissions": ["manage_accounts"]})
    assert staff.staff_can(user=agent, tenant=tenant, permission="manage_accounts")
    assert staff.staff_can(user=agent, tenant=tenant, permission="view_accounts")
    page = admin_client.get(reverse("console:tenant_detail", args=[tenant.slug]))
    assert agent.username.encode() in page.content
    admin_client.post(
        reverse("console:staff_revoke", args=[tenant.slug]),
        {"user": agent.username, "reason": "moved team", "confirmed": "True"},
    )
    assert not staff.staff_can(user=agent, tenant=tenant, permission="view_accounts")
    assert (
        AuditEvent.objects.get(tenant=tenant, action="staff_access.revoked").reason == "moved team"
    )
    assert AuditEvent.objects.filter(tenant=tenant, action__startswith="staff_access.").count() == 2


def test_admin_cannot_revoke_their_own_access(admin_client, admin, tenant):
    response = admin_client.post(
        reverse("console:staff_revoke", args=[tenant.slug]), {"user": admin.username}
    )
    assert response.status_code == 403
    assert staff.staff_can(user=admin, tenant=tenant, permission="administer_tenant")


def test_tenant_switcher_changes_the_current_tenant(
    make_staff, console_client, tenant, other_tenant
):
    user = make_staff("Agent", tenant)
    staff.staff_access_grant(
        tenant=other_tenant, actor=staff.Actor.system(), user=user, permissions=["view_accounts"]
    )
    client = console_client(user)
    client.post(reverse("console:tenant_switch"), {"tenant": other_tenant.pk})
    page = client.get(reverse("console:dashboard"))
    assert f"<h1>{other_tenant.name}</h1>".encode() in page.content


# --- the grouped settings form (portal/tenant_settings.py) ----------------------------------

VOID = {"input", "br", "hr", "img", "meta", "link", "col", "source", "wbr"}


class Page(HTMLParser):
    """The parts of a page these tests read: each element with an id (its tag, attributes and
    text), each label's text by its `for`, the links inside each element with an id, and the
    ids in document order."""

    def __init__(self, html: str):
        super().__init__()
        self.by_id: dict[str, dict] = {}
        self.text: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.links: dict[str, list[tuple[str, str]]] = {}
        self.order: list[str] = []
        self._open: list[tuple[str, str | None]] = []  # (tag, id)
        self._label: str | None = None
        self._link: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        ident = attributes.get("id")
        if ident:
            self.by_id[ident] = {"tag": tag, **attributes}
            self.text.setdefault(ident, "")
            self.order.append(ident)
        if tag == "label" and "for" in attributes:
            self._label = attributes["for"]
            self.labels[self._label] = ""
        if tag == "a":
            self._link = attributes.get("href", "")
            self._link_text = ""
        if tag not in VOID:
            self._open.append((tag, ident))

    def handle_endtag(self, tag):
        if tag == "label":
            self._label = None
        if tag == "a" and self._link is not None:
            for _, ident in self._open:
                if ident:
                    self.links.setdefault(ident, []).append((self._link, self._link_text.strip()))
            self._link = None
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _, ident in self._open:
            if ident:
                self.text[ident] += data
        if self._label is not None:
            self.labels[self._label] += data
        if self._link is not None:
            self._link_text += data


def _settings_post(tenant, **changes):
    """Every setting's current value as the form posts it, with `changes` on top."""
    data = {}
    for setting in tenant_settings.SETTINGS:
        value = tenant.setting(setting.name)
        if setting.kind is tenant_settings.Kind.FLAG:
            if value:
                data[setting.name] = "on"
        else:
            data[setting.name] = value
    data.update(changes)
    return data


def test_settings_show_every_group_with_labels_and_help(admin_client, tenant):
    page = Page(admin_client.get(reverse("console:tenant_detail", args=[tenant.slug])).text)
    groups = [
        ident
        for ident in page.order
        if ident.startswith("settings-") and page.by_id[ident]["tag"] == "fieldset"
    ]
    assert [page.text[ident].strip().split("\n")[0].strip() for ident in groups] == [
        group.value for group in tenant_settings.GROUP_ORDER
    ]
    assert page.labels["id_retention_events_days"].strip() == "Events kept (days)"
    field = page.by_id["id_retention_events_days"]
    assert field["value"] == "365" and (field["min"], field["max"]) == ("1", "3650")
    assert field["aria-describedby"] == "id_retention_events_days_helptext"
    help_text = page.text["id_retention_events_days_helptext"]
    assert "purged" in help_text and "Default: 365." in help_text
    # Inside its group: after the group's start and before the next one (the reason).
    order = page.order.index
    assert order("settings-retention") < order("id_retention_events_days") < order("id_reason")
    assert (
        order("settings-password") < order("id_password_min_length") < order("settings-retention")
    )
    assert "settings-error-summary" not in page.by_id


def test_a_refused_save_lists_every_problem_at_the_top_and_keeps_the_typed_values(
    admin_client, tenant
):
    url = reverse("console:tenant_settings", args=[tenant.slug])
    data = _settings_post(
        tenant,
        password_min_length="40",
        password_max_length="20",
        retention_job_reports_days="400",
        lockout_threshold="4",
        reason="tighten",
    )
    response = admin_client.post(url, data)
    assert response.status_code == 400
    page = Page(response.text)
    summary = page.by_id["settings-error-summary"]
    assert summary["role"] == "alert"
    # At the top: before the first group of settings.
    assert page.order.index("settings-error-summary") < page.order.index("settings-sessions")
    links = dict(page.links["settings-error-summary"])
    assert set(links) == {"#id_password_max_length", "#id_retention_job_reports_days"}
    assert links["#id_retention_job_reports_days"].startswith("Job reports kept (days):")
    assert "1 to 365" in links["#id_retention_job_reports_days"]
    assert "minimum" in links["#id_password_max_length"]
    assert "2 problems" in page.text["settings-error-summary"]
    for name, typed in (
        ("password_min_length", "40"),
        ("password_max_length", "20"),
        ("retention_job_reports_days", "400"),
        ("lockout_threshold", "4"),
    ):
        assert page.by_id[f"id_{name}"]["value"] == typed
    assert page.by_id["id_reason"]["value"] == "tighten"
    assert page.by_id["id_retention_job_reports_days"]["aria-invalid"] == "true"
    tenant.refresh_from_db()
    assert tenant.settings == {}
    assert not AuditEvent.objects.filter(tenant=tenant, action="tenant.updated").exists()


def test_a_value_of_the_wrong_type_is_summarised_too(admin_client, tenant):
    url = reverse("console:tenant_settings", args=[tenant.slug])
    response = admin_client.post(url, _settings_post(tenant, sms_otp_lifetime_minutes="ten"))
    assert response.status_code == 400
    page = Page(response.text)
    assert [href for href, _ in page.links["settings-error-summary"]] == [
        "#id_sms_otp_lifetime_minutes"
    ]
    tenant.refresh_from_db()
    assert tenant.settings == {}


def test_retention_settings_are_saved_through_the_service(admin_client, tenant):
    url = reverse("console:tenant_settings", args=[tenant.slug])
    response = admin_client.post(
        url, _settings_post(tenant, retention_signin_events_days="60", reason="policy")
    )
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.settings == {"retention_signin_events_days": 60}
    event = AuditEvent.objects.get(tenant=tenant, action="tenant.updated")
    assert event.diff == {"retention_signin_events_days": [None, 60]}
