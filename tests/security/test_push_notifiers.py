"""Push challenges really reach devices: through Firebase Cloud Messaging HTTP v1 with the
tenant's service account, or through the tenant's relay by a Standard Webhooks signed
POST. Google and the relay are local HTTPS servers speaking their protocols; 4xx answers
fail a notification for good, 5xx and timeouts are retried, and the outcome is recorded on
the challenge. Without a notifier, push is refused rather than pretended."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from portal.audit import Actor
from portal.models import AuditEvent
from security import services
from security.commands import PushNotifierSet
from security.errors import PushNotifierInvalid
from security.models import PushChallenge, PushDevice, PushNotifierConfig
from security.tasks import push_deliver_task
from tests.factories import AccountFactory
from tests.security.conftest import bearer
from tests.security.fake_fcm import FakeGoogle, service_account
from tests.security.fake_push import INBOX, FakeDevice, WebhookReceiver, configure_webhook

A = "/identity/v2/auth"
PASSWORD = "pw-push-notifiers"
DEVICE = "fcm-registration-token-1"


@pytest.fixture
def member(tenant, tokens):
    account = AccountFactory(tenant=tenant, email="notified@example.com")
    account.password = make_password(PASSWORD)
    account.save()
    tokens["tok-member"] = account
    return account


@pytest.fixture(scope="module")
def key_file():
    return service_account()


@pytest.fixture
def google(settings, key_file):
    account_json, public_key = key_file
    server = FakeGoogle(account_json=account_json, public_key=public_key).start()
    settings.OUTBOUND_TEST_HOSTS = {server.host: server.ca_path}
    settings.PUSH_FCM_API_BASE_URL = server.base_url
    settings.PUSH_FCM_TOKEN_URL = server.token_url
    yield server
    server.stop()


@pytest.fixture
def fcm_tenant(tenant, google, key_file):
    services.push_notifier_set(
        PushNotifierSet(kind="fcm", service_account_json=key_file[0], reason="FCM"),
        tenant=tenant,
        actor=Actor.system("test"),
    )
    return tenant


@pytest.fixture
def relay(tenant, settings):
    receiver = WebhookReceiver().start()
    configure_webhook(tenant, receiver, settings)
    INBOX.clear()
    yield receiver
    receiver.stop()
    INBOX.clear()


def register(tenant, address=DEVICE):
    phone = FakeDevice(tenant, address)
    response = phone.register(bearer("tok-member"))
    assert response.status_code == 200, response.json()
    return phone


def sign_in_token(tenant) -> str:
    login = APIClient().post(
        f"{A}/login?apikey={tenant.api_key}",
        {"email": "notified@example.com", "password": PASSWORD},
        format="json",
    )
    return login.json()["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]


def start(tenant, capture):
    """A pending sign-in asks for push; the notification goes out once it committed."""
    token = sign_in_token(tenant)
    with capture(execute=True):
        started = APIClient().post(
            f"{A}/login/2fa/push?apikey={tenant.api_key}&secondfactorauthenticationtoken={token}"
        )
    assert started.status_code == 200, started.json()
    return PushChallenge.objects.get(public_id=started.json()["ChallengeId"])


def delivery(challenge):
    challenge.refresh_from_db()
    return challenge.delivery_status, challenge.delivery_attempts


# --------------------------------------------------------------------------- FCM HTTP v1


def test_fcm_message_goes_out_with_a_jwt_exchanged_token_that_is_reused(
    fcm_tenant, member, google, django_capture_on_commit_callbacks
):
    register(fcm_tenant)
    first = start(fcm_tenant, django_capture_on_commit_callbacks)
    second = start(fcm_tenant, django_capture_on_commit_callbacks)

    assert delivery(first) == ("sent", 1) and delivery(second) == ("sent", 1)
    assert first.delivered_at is not None and first.delivery_error == ""
    assert [m["token"] for m in google.messages] == [DEVICE, DEVICE]
    data = google.messages[0]["data"]
    assert data["ChallengeId"] == first.public_id and data["Uid"] == member.uid
    assert data["Application"] == fcm_tenant.name
    # One assertion, verified with the service account's public key, served both messages.
    assert len(google.token_requests) == 1
    claims = google.token_requests[0]
    assert claims["aud"] == google.token_url and claims["exp"] - claims["iat"] == 3600


def test_the_key_files_token_uri_is_never_called(
    tenant, member, google, settings, django_capture_on_commit_callbacks
):
    elsewhere = WebhookReceiver(path="/token").start()  # would record any call made to it
    settings.OUTBOUND_TEST_HOSTS = {
        **settings.OUTBOUND_TEST_HOSTS,
        elsewhere.host: elsewhere.ca_path,
    }
    try:
        account_json, public_key = service_account(token_uri=f"https://{elsewhere.host}/token")
        google.account = json.loads(account_json)
        google.public_key = public_key
        services.push_notifier_set(
            PushNotifierSet(kind="fcm", service_account_json=account_json),
            tenant=tenant,
            actor=Actor.system("test"),
        )
        register(tenant)
        challenge = start(tenant, django_capture_on_commit_callbacks)
        assert delivery(challenge) == ("sent", 1)
        assert elsewhere.requests == [] and len(google.token_requests) == 1
    finally:
        elsewhere.stop()


def test_a_token_google_stopped_honouring_is_fetched_again_once(
    fcm_tenant, member, google, django_capture_on_commit_callbacks
):
    register(fcm_tenant)
    start(fcm_tenant, django_capture_on_commit_callbacks)
    google.expire_tokens()  # the cached token is now refused with 401

    challenge = start(fcm_tenant, django_capture_on_commit_callbacks)

    assert delivery(challenge) == ("sent", 1)
    assert len(google.token_requests) == 2 and google.send_requests == 3
    assert len(google.messages) == 2


def test_a_refused_token_is_not_fetched_in_a_loop(
    fcm_tenant, member, google, django_capture_on_commit_callbacks
):
    register(fcm_tenant)
    google.honour_tokens = False  # every access token, even a new one, gets 401
    challenge = start(fcm_tenant, django_capture_on_commit_callbacks)

    assert delivery(challenge) == ("failed", 1)
    assert "401" in challenge.delivery_error
    assert len(google.token_requests) == 2 and google.send_requests == 2


def test_the_cached_token_is_renewed_shortly_before_it_expires(
    fcm_tenant, member, google, django_capture_on_commit_callbacks
):
    register(fcm_tenant)
    start(fcm_tenant, django_capture_on_commit_callbacks)
    with freeze_time(timezone.now() + timedelta(seconds=3000), tick=True):
        challenge = start(fcm_tenant, django_capture_on_commit_callbacks)
    assert delivery(challenge) == ("sent", 1)
    assert len(google.token_requests) == 1  # still well inside its hour
    with freeze_time(timezone.now() + timedelta(seconds=3599 - 299), tick=True):
        challenge = start(fcm_tenant, django_capture_on_commit_callbacks)
    assert delivery(challenge) == ("sent", 1)
    assert len(google.token_requests) == 2  # within five minutes of expiry: a new one
    assert google.send_requests == 3  # and no 401 was needed to find out


def test_an_unregistered_device_token_fails_for_good(
    fcm_tenant, member, google, django_capture_on_commit_callbacks
):
    register(fcm_tenant)
    google.unregistered.add(DEVICE)
    challenge = start(fcm_tenant, django_capture_on_commit_callbacks)

    assert delivery(challenge) == ("failed", 1)
    assert "404" in challenge.delivery_error and "UNREGISTERED" in challenge.delivery_error
    assert push_deliver_task.apply(args=(challenge.pk,)).get() == "failed"
    assert google.send_requests == 1 and google.messages == []
    assert PushChallenge.objects.get(pk=challenge.pk).status == PushChallenge.PENDING


def test_a_service_account_google_refuses_fails_for_good(
    fcm_tenant, member, google, django_capture_on_commit_callbacks
):
    register(fcm_tenant)
    google.public_key = service_account()[1]  # Google knows another key for this account
    challenge = start(fcm_tenant, django_capture_on_commit_callbacks)
    assert delivery(challenge) == ("failed", 1)
    assert "invalid_grant" in challenge.delivery_error
    assert google.send_requests == 0


def test_fcm_5xx_is_retried_and_recorded(
    fcm_tenant, member, google, django_capture_on_commit_callbacks
):
    register(fcm_tenant)
    google.send_answers = [503]
    challenge = start(fcm_tenant, django_capture_on_commit_callbacks)

    assert delivery(challenge) == ("retrying", 1)
    assert "503" in challenge.delivery_error and google.messages == []
    assert push_deliver_task.apply(args=(challenge.pk,)).get() == "sent"
    assert delivery(challenge) == ("sent", 2) and challenge.delivery_error == ""
    assert len(google.messages) == 1
    assert push_deliver_task.apply(args=(challenge.pk,)).get() == "sent"  # idempotent
    assert len(google.messages) == 1


def test_token_endpoint_5xx_is_retried(
    fcm_tenant, member, google, django_capture_on_commit_callbacks
):
    register(fcm_tenant)
    google.token_answers = [500]
    challenge = start(fcm_tenant, django_capture_on_commit_callbacks)
    assert delivery(challenge) == ("retrying", 1)
    assert push_deliver_task.apply(args=(challenge.pk,)).get() == "sent"
    assert len(google.messages) == 1


def test_a_timeout_is_retried(
    fcm_tenant, member, google, settings, django_capture_on_commit_callbacks
):
    settings.PUSH_DELIVERY_TIMEOUT = 0.5
    register(fcm_tenant)
    google.delay = 2.0
    challenge = start(fcm_tenant, django_capture_on_commit_callbacks)
    assert delivery(challenge) == ("retrying", 1)
    assert "in time" in challenge.delivery_error
    google.delay = 0
    assert push_deliver_task.apply(args=(challenge.pk,)).get() == "sent"
    assert delivery(challenge) == ("sent", 2)


def test_retries_stop_after_the_last_attempt(
    fcm_tenant, member, google, django_capture_on_commit_callbacks
):
    register(fcm_tenant)
    google.send_answers = [500] * 10
    challenge = start(fcm_tenant, django_capture_on_commit_callbacks)
    outcomes = [push_deliver_task.apply(args=(challenge.pk,)).get() for _ in range(4)]
    assert outcomes == ["retrying", "retrying", "failed", "failed"]
    assert delivery(challenge) == ("failed", services.push_approval.PUSH_DELIVERY_ATTEMPTS)
    assert google.send_requests == 4


def test_no_retry_after_the_challenge_was_answered_or_expired(
    fcm_tenant, member, google, django_capture_on_commit_callbacks
):
    register(fcm_tenant)
    google.send_answers = [503]
    challenge = start(fcm_tenant, django_capture_on_commit_callbacks)
    with freeze_time(challenge.expires_at + timedelta(seconds=1)):
        assert push_deliver_task.apply(args=(challenge.pk,)).get() == "skipped"
    assert delivery(challenge) == ("skipped", 1) and google.send_requests == 1


# --------------------------------------------------------------------------- signed webhook


def test_webhook_push_is_signed_as_standard_webhooks_says(
    tenant, member, relay, django_capture_on_commit_callbacks
):
    phone = register(tenant, "relay-device-1")
    challenge = start(tenant, django_capture_on_commit_callbacks)

    assert delivery(challenge) == ("sent", 1)
    (request,) = relay.requests
    assert request["verified"]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["webhook-id"] == f"msg_pushchallenge_{challenge.pk}"
    assert headers["webhook-signature"].startswith("v1,")
    body = json.loads(request["body"])
    assert body["type"] == "push.challenge"
    assert phone.notifications()[-1]["ChallengeId"] == challenge.public_id
    assert body["data"]["DeviceToken"] == "relay-device-1"
    assert phone.answer(True).json() == {"IsPosted": True}


def test_webhook_retry_keeps_its_id_and_5xx_then_2xx_delivers(
    tenant, member, relay, django_capture_on_commit_callbacks
):
    register(tenant, "relay-device-2")
    relay.answers = [502]
    challenge = start(tenant, django_capture_on_commit_callbacks)
    assert delivery(challenge) == ("retrying", 1) and "502" in challenge.delivery_error
    assert push_deliver_task.apply(args=(challenge.pk,)).get() == "sent"
    ids = {r["headers"]["webhook-id"] for r in relay.requests}
    assert len(relay.requests) == 2 and len(ids) == 1
    assert len(INBOX["relay-device-2"]) == 1


def test_webhook_4xx_fails_for_good(tenant, member, relay, django_capture_on_commit_callbacks):
    register(tenant, "relay-device-3")
    relay.answers = [410]
    challenge = start(tenant, django_capture_on_commit_callbacks)
    assert delivery(challenge) == ("failed", 1) and "410" in challenge.delivery_error
    assert push_deliver_task.apply(args=(challenge.pk,)).get() == "failed"
    assert len(relay.requests) == 1 and INBOX == {}


def test_webhook_timeout_is_retried(
    tenant, member, relay, settings, django_capture_on_commit_callbacks
):
    settings.PUSH_DELIVERY_TIMEOUT = 0.5
    register(tenant, "relay-device-4")
    relay.delay = 2.0
    challenge = start(tenant, django_capture_on_commit_callbacks)
    assert delivery(challenge) == ("retrying", 1) and "in time" in challenge.delivery_error


def test_a_relay_holding_an_old_secret_refuses_the_signature(
    tenant, member, relay, django_capture_on_commit_callbacks
):
    register(tenant, "relay-device-5")
    saved = services.push_notifier_set(
        PushNotifierSet(kind="webhook", webhook_url=relay.url, new_secret=True),
        tenant=tenant,
        actor=Actor.system("test"),
    )
    assert saved.webhook_secret and saved.webhook_secret != relay.secret
    challenge = start(tenant, django_capture_on_commit_callbacks)
    assert delivery(challenge) == ("failed", 1) and "401" in challenge.delivery_error
    assert [r["verified"] for r in relay.requests] == [False] and INBOX == {}


def test_a_relay_on_a_private_address_is_refused_without_the_operators_allowance(
    tenant, member, relay, settings, django_capture_on_commit_callbacks
):
    register(tenant, "relay-device-6")
    settings.OUTBOUND_TEST_HOSTS = {}
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    challenge = start(tenant, django_capture_on_commit_callbacks)
    assert delivery(challenge) == ("failed", 1) and "refused" in challenge.delivery_error
    assert relay.requests == []


# --------------------------------------------------------------------------- not configured


def test_without_a_notifier_push_is_refused_not_pretended(
    tenant, member, relay, django_capture_on_commit_callbacks
):
    register(tenant, "relay-device-7")
    services.push_notifier_set(
        PushNotifierSet(kind="none", reason="push off"), tenant=tenant, actor=Actor.system("t")
    )
    token = sign_in_token(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        refused = APIClient().post(
            f"{A}/login/2fa/push?apikey={tenant.api_key}&secondfactorauthenticationtoken={token}"
        )
    body = refused.json()
    assert refused.status_code == 400 and body["ErrorCode"] == 1134
    assert body["Description"] == "Push notifications are not configured for this application."
    assert PushChallenge.objects.count() == 0 and relay.requests == []

    enrol = FakeDevice(tenant, "relay-device-8").register(bearer("tok-member"))
    assert enrol.json()["ErrorCode"] == 1134
    assert "not configured" in enrol.json()["Description"]
    assert PushDevice.objects.filter(account=member).count() == 1


# --------------------------------------------------------------------------- the settings


def test_settings_are_validated_and_nothing_changes_on_refusal(tenant, key_file):
    actor = Actor.system("t")
    bad = [
        PushNotifierSet(kind="sms"),
        PushNotifierSet(kind="fcm"),
        PushNotifierSet(kind="fcm", service_account_json="not json"),
        PushNotifierSet(kind="fcm", service_account_json='{"type": "authorized_user"}'),
        PushNotifierSet(
            kind="fcm",
            service_account_json=key_file[0].replace("BEGIN PRIVATE KEY", "BEGIN NOTHING"),
        ),
        PushNotifierSet(kind="webhook", webhook_url="http://relay.example.com/push"),
        PushNotifierSet(kind="webhook", webhook_url="https://user:pw@relay.example.com/"),
        PushNotifierSet(kind="webhook", webhook_url="https:///nohost"),
        PushNotifierSet(kind="webhook", webhook_url=""),
    ]
    for command in bad:
        with pytest.raises(PushNotifierInvalid):
            services.push_notifier_set(command, tenant=tenant, actor=actor)
    assert not PushNotifierConfig.objects.exists()
    assert not AuditEvent.objects.filter(action="push_notifier.configured").exists()


def test_secrets_are_encrypted_recorded_without_secrets_and_shown_once(tenant, key_file):
    actor = Actor.system("t")
    saved = services.push_notifier_set(
        PushNotifierSet(kind="fcm", service_account_json=key_file[0], reason="go"),
        tenant=tenant,
        actor=actor,
    )
    assert saved.webhook_secret is None
    row = PushNotifierConfig.objects.get(tenant=tenant)
    private_key = json.loads(key_file[0])["private_key"]
    assert row.fcm_project_id == "portal-push-test"
    assert "PRIVATE KEY" not in row.secret_encrypted

    kept = services.push_notifier_set(
        PushNotifierSet(kind="fcm", service_account_json=None), tenant=tenant, actor=actor
    )
    assert kept.config.fcm_client_email == row.fcm_client_email

    hook = services.push_notifier_set(
        PushNotifierSet(kind="webhook", webhook_url="https://relay.example.com/push"),
        tenant=tenant,
        actor=actor,
    )
    secret = hook.webhook_secret
    assert secret.startswith("whsec_")
    row.refresh_from_db()
    assert secret not in row.secret_encrypted and row.fcm_project_id == ""
    same = services.push_notifier_set(
        PushNotifierSet(kind="webhook", webhook_url="https://relay.example.com/v2"),
        tenant=tenant,
        actor=actor,
    )
    assert same.webhook_secret is None  # kept, never shown again

    events = list(AuditEvent.objects.filter(action="push_notifier.configured").order_by("pk"))
    assert len(events) == 4
    assert events[0].diff["kind"] == ["none", "fcm"]
    assert events[0].diff["credential_replaced"] == [False, True]
    assert "credential_replaced" not in events[1].diff
    assert events[2].diff["kind"] == ["fcm", "webhook"]
    assert events[3].diff == {
        "webhook_url": ["https://relay.example.com/push", "https://relay.example.com/v2"]
    }
    recorded = json.dumps([e.diff for e in events])
    assert private_key[40:80] not in recorded and secret not in recorded

    services.push_notifier_set(PushNotifierSet(kind="none"), tenant=tenant, actor=actor)
    assert not PushNotifierConfig.objects.exists()
    last = AuditEvent.objects.filter(action="push_notifier.configured").latest("pk")
    assert last.diff["kind"] == ["webhook", "none"]


def test_the_retry_task_is_registered_with_the_worker_app():
    from portal.celery import app

    assert app.tasks["security.push_deliver"].name == push_deliver_task.name
    assert push_deliver_task.max_retries == services.push_approval.PUSH_DELIVERY_ATTEMPTS
