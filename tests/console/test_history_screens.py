"""The account's history in the console: the profile as of a past time, and restoring a
value from the timeline as a new change with its own event."""

import pytest
from django.urls import reverse
from freezegun import freeze_time

from accounts.commands import AccountChanges, AccountCreate
from accounts.models import Account
from accounts.services import account_create, account_update
from portal.audit import Actor
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db
SETUP = Actor.system("setup")


@pytest.fixture
def renamed(tenant):
    with freeze_time("2026-12-01 10:00"):
        account = account_create(
            AccountCreate(values={"FirstName": "Ann", "LastName": "Lee", "UserName": "annlee"}),
            tenant=tenant,
            actor=SETUP,
        )
    with freeze_time("2026-12-02 10:00"):
        account_update(
            AccountChanges(values={"FirstName": "Anna"}),
            tenant=tenant,
            actor=SETUP,
            account=account,
        )
    event = AuditEvent.objects.filter(subject_uid=account.uid, action="account.updated").get()
    return Account.objects.get(pk=account.pk), event


def test_the_timeline_offers_restore_and_as_of_to_an_agent(
    tenant, renamed, make_staff, console_client
):
    account, event = renamed
    client = console_client(make_staff("Agent", tenant))
    page = client.get(reverse("console:account_detail", args=[tenant.slug, account.uid]))
    # Relative to the account page, so the timeline names no UID.
    restore = f'href="restore/{event.pk}/FirstName/"'
    assert restore.encode() in page.content
    assert b"profile as of then" in page.content
    viewer = console_client(make_staff("Viewer", tenant))
    page = viewer.get(reverse("console:account_detail", args=[tenant.slug, account.uid]))
    assert restore.encode() not in page.content


def test_restoring_runs_the_reverse_change_with_the_reason(
    tenant, renamed, make_staff, console_client
):
    account, event = renamed
    client = console_client(make_staff("Agent", tenant, username="ann.agent"))
    url = reverse("console:account_restore", args=[tenant.slug, account.uid, event.pk, "FirstName"])
    confirm = client.get(url).content.decode()
    # An Agent reads both values masked (the tenant's default); a Lead reads them in full.
    assert "<del>A•••</del>" in confirm and "<ins>A•••</ins>" in confirm
    assert "Anna" not in confirm and ">Ann<" not in confirm
    lead = console_client(make_staff("Lead", tenant)).get(url).content.decode()
    assert "<del>Ann</del>" in lead and "<ins>Anna</ins>" in lead
    assert client.post(url, {"reason": ""}).status_code == 400
    assert Account.objects.get(pk=account.pk).first_name == "Anna"
    response = client.post(url, {"reason": "customer asked to undo", "ticket": "SUP-9"})
    assert response.status_code == 302
    assert Account.objects.get(pk=account.pk).first_name == "Ann"
    restored = AuditEvent.objects.filter(subject_uid=account.uid).order_by("id").last()
    assert (restored.action, restored.actor_label, restored.reason, restored.ticket) == (
        "account.updated",
        "ann.agent",
        "customer asked to undo",
        "SUP-9",
    )
    assert restored.diff["FirstName"] == ["Anna", "Ann"]


def test_a_field_that_is_not_restored_this_way_is_not_found(
    tenant, renamed, make_staff, console_client
):
    account, event = renamed
    client = console_client(make_staff("Agent", tenant))
    url = reverse("console:account_restore", args=[tenant.slug, account.uid, event.pk, "Email"])
    assert client.get(url).status_code == 404
    viewer = console_client(make_staff("Viewer", tenant))
    url = reverse("console:account_restore", args=[tenant.slug, account.uid, event.pk, "FirstName"])
    assert viewer.post(url, {"reason": "x"}).status_code == 403


def test_the_profile_as_of_a_past_time(tenant, renamed, make_staff, console_client):
    account, _ = renamed
    client = console_client(make_staff("Viewer", tenant))
    url = reverse("console:account_as_of", args=[tenant.slug, account.uid])
    masked = client.get(url, {"at": "2026-12-01T12:00"}).content.decode()
    assert "<td>A•••</td>" in masked and "<td>Ann</td>" not in masked
    # The rest is about the view itself: this tenant shows Viewers personal data in full.
    tenant.settings = {**tenant.settings, "masked_roles": []}
    tenant.save(update_fields=["settings"])
    then = client.get(url, {"at": "2026-12-01T12:00"})
    assert then.status_code == 200 and then["Cache-Control"] == "no-store"
    content = then.content.decode()
    assert "<td>Ann</td>" in content and "<td>Anna</td>" not in content
    now = client.get(url, {"at": "2026-12-03T00:00"}).content.decode()
    assert "<td>Anna</td>" in now
    assert client.get(url, {"at": "yesterday"}).status_code == 200
