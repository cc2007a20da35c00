"""The tenant's push notification settings screen (Admin): choose none, FCM with an
uploaded or pasted service account, or a signed webhook whose secret is shown once."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.models import AuditEvent
from security.models import PushNotifierConfig
from tests.security.fake_fcm import service_account

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def key_file():
    return service_account(project_id="console-push")[0]


@pytest.fixture
def admin_client(make_staff, console_client, tenant):
    return console_client(make_staff("Admin", tenant))


def url(tenant):
    return reverse("console:push_settings", args=[tenant.slug])


def test_the_tenant_page_links_to_the_screen_which_says_push_is_off(admin_client, tenant):
    detail = admin_client.get(reverse("console:tenant_detail", args=[tenant.slug]))
    assert url(tenant).encode() in detail.content
    page = admin_client.get(url(tenant))
    assert page.status_code == 200 and b"Not configured" in page.content


def test_uploading_a_service_account_stores_it_encrypted_and_never_shows_it(
    admin_client, tenant, key_file
):
    upload = SimpleUploadedFile("key.json", key_file.encode(), "application/json")
    response = admin_client.post(
        url(tenant),
        {"kind": "fcm", "service_account_file": upload, "reason": "go live"},
    )
    assert response.status_code == 302
    row = PushNotifierConfig.objects.get(tenant=tenant)
    assert row.kind == "fcm" and row.fcm_project_id == "console-push"
    private_key = json.loads(key_file)["private_key"]
    assert "PRIVATE KEY" not in row.secret_encrypted
    page = admin_client.get(url(tenant))
    assert b"console-push" in page.content and private_key[40:80].encode() not in page.content
    event = AuditEvent.objects.get(tenant=tenant, action="push_notifier.configured")
    assert event.reason == "go live" and event.diff["kind"] == ["none", "fcm"]


def test_a_pasted_key_file_that_is_not_a_service_account_is_refused(admin_client, tenant):
    response = admin_client.post(
        url(tenant), {"kind": "fcm", "service_account_json": '{"type": "authorized_user"}'}
    )
    assert response.status_code == 400 and b"service account" in response.content
    assert not PushNotifierConfig.objects.exists()
    assert not AuditEvent.objects.filter(action="push_notifier.configured").exists()


def test_a_webhook_secret_is_shown_once(admin_client, tenant):
    response = admin_client.post(
        url(tenant), {"kind": "webhook", "webhook_url": "https://relay.example.com/push"}
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    secret = response.content.decode().split('id="webhook-secret" class="secret">')[1].split("<")[0]
    assert secret.startswith("whsec_")
    row = PushNotifierConfig.objects.get(tenant=tenant)
    assert secret not in row.secret_encrypted
    page = admin_client.get(url(tenant))
    assert b"relay.example.com" in page.content and secret.encode() not in page.content
    # Changing the address keeps the secret, and does not show it again.
    again = admin_client.post(
        url(tenant), {"kind": "webhook", "webhook_url": "https://relay.example.com/v2"}
    )
    assert again.status_code == 302


def test_a_plain_http_relay_is_refused(admin_client, tenant):
    response = admin_client.post(
        url(tenant), {"kind": "webhook", "webhook_url": "http://relay.example.com/push"}
    )
    assert response.status_code == 400 and b"https://" in response.content
    assert not PushNotifierConfig.objects.exists()


def test_choosing_none_turns_push_off(admin_client, tenant):
    admin_client.post(
        url(tenant), {"kind": "webhook", "webhook_url": "https://relay.example.com/push"}
    )
    response = admin_client.post(url(tenant), {"kind": "none", "reason": "off"})
    assert response.status_code == 302 and not PushNotifierConfig.objects.exists()
    assert AuditEvent.objects.filter(action="push_notifier.configured").count() == 2


def test_an_agent_cannot_reach_the_screen(make_staff, console_client, tenant):
    agent = console_client(make_staff("Agent", tenant))
    assert agent.get(url(tenant)).status_code in (403, 404)
    response = agent.post(url(tenant), {"kind": "webhook", "webhook_url": "https://x.example/"})
    assert response.status_code in (403, 404) and not PushNotifierConfig.objects.exists()
