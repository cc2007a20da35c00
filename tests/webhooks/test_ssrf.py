"""Webhook addresses: loopback, private, unique-local, CGNAT, unspecified and IPv4-mapped
receivers are refused at registration (a field error on `url`) and again when a delivery
connects, unless the operator allows private networks; link-local never."""

import pytest

from portal.models import AuditEvent
from tests.webhooks.conftest import WEBHOOKS, record, register
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.tasks import webhooks_relay_task

pytestmark = pytest.mark.django_db

PRIVATE = [
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://10.0.0.5/hook",
    "https://192.168.1.20:8443/hook",
    "https://172.16.0.1/hook",
    "https://[fd00::1]/hook",
    "https://100.64.0.1/hook",
    "https://[::1]/hook",
]
NEVER = [
    "https://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/",
    "https://[fe80::1]/hook",
    "https://0.0.0.0/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:169.254.169.254]/hook",
    "https://224.0.0.1/hook",
]


def _refused(admin, url):
    response = admin.post(WEBHOOKS, {"url": url, "events": ["*"]})
    assert response.status_code == 400, (url, response.content)
    assert [error["field"] for error in response.json()["errors"]] == ["url"]


@pytest.mark.parametrize("url", PRIVATE + NEVER)
def test_private_and_special_addresses_are_refused_by_default(admin, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    _refused(admin, url)
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEvent.objects.filter(action="webhook.created").exists()


@pytest.mark.parametrize("url", PRIVATE)
def test_the_operator_setting_admits_private_receivers(admin, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    assert register(admin, url, ["*"])["url"] == url


@pytest.mark.parametrize("url", NEVER)
def test_link_local_and_disguised_addresses_stay_refused_with_the_setting(admin, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    _refused(admin, url)


def test_a_changed_address_is_checked_too(admin, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    hook = register(admin, "https://hooks.example.com/x", ["*"])
    response = admin.request(
        "PATCH", f"{WEBHOOKS}/{hook['id']}", body={"url": "https://169.254.169.254/"}
    )
    assert response.status_code == 400
    assert WebhookEndpoint.objects.get(pk=hook["id"]).url == "https://hooks.example.com/x"


def test_the_address_is_checked_again_when_a_delivery_connects(
    admin, tenant, receiver, account, settings
):
    """Registered while the operator allowed private networks; once that is withdrawn,
    the delivery to the loopback receiver is refused at connect time."""
    settings.OUTBOUND_TEST_HOSTS = {}
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    hook = register(admin, receiver.url, ["account.updated"])
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["A", "B"]})
    webhooks_relay_task()
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get(endpoint_id=hook["id"])
    assert delivery.state == "pending" and delivery.error.startswith("refused")

    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    webhooks_relay_task()
    assert len(receiver.requests) == 1


def test_the_metadata_address_is_refused_at_connect_time_whatever_is_allowed(
    admin, tenant, account, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    hook = register(admin, "https://10.1.2.3/hook", ["account.updated"])
    # An address changed behind the registration check (as a DNS answer may change).
    WebhookEndpoint.objects.filter(pk=hook["id"]).update(url="http://169.254.169.254/latest")
    record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["A", "B"]})
    webhooks_relay_task()
    delivery = WebhookDelivery.objects.get(endpoint_id=hook["id"])
    assert delivery.status_code is None and delivery.error.startswith("refused")
