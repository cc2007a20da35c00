"""Delivery through a real `celery -A portal worker` over Redis, to a real SMTP server:
the normal path, a worker SIGKILLed in the middle of a delivery, and a broker that is
unreachable when the API call commits."""

import contextlib
import time

import pytest

from tests.factories import AccountFactory
from tests.messages.conftest import broker_idle, free_port
from tests.waiting import wait_until
from tokens.models import OutboxMessage

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

M = "/identity/v2/manage/account"


@pytest.fixture
def person(tenant):
    return AccountFactory(tenant=tenant, email="person@example.com", first_name="Pat")


def _forgot_with_mail(lr):
    response = lr.post(
        f"{M}/forgot/token", {"email": "person@example.com"}, params={"sendemail": "true"}
    )
    assert response.status_code == 200, response.json()
    return response.json()["ForgotToken"]


def test_mail_is_delivered_through_the_worker(lr, person, smtp_server, celery_worker_factory):
    worker = celery_worker_factory()
    token = _forgot_with_mail(lr)
    messages = smtp_server.handler.wait_for(1, timeout=60)
    assert len(messages) == 1, worker.log()
    assert messages[0]["To"] == "person@example.com"
    assert f"vtoken={token}" in messages[0].get_body(("plain",)).get_content()
    row = wait_until(lambda: OutboxMessage.objects.filter(status="sent").first(), timeout=30)
    assert (
        row is not None
        and row.attempts == 1
        and row.provider_message_id == messages[0]["Message-ID"]
    )


def test_worker_killed_mid_delivery_the_mail_still_arrives_exactly_once(
    lr, person, smtp_server, celery_worker_factory
):
    timing = {
        "CELERY_VISIBILITY_TIMEOUT": "3",  # the broker hands an unacknowledged task out again after 3 s
        "CELERY_MAX_RETRY_DELAY": "1",
        "OUTBOX_CLAIM_LEASE_SECONDS": "2",  # a claim of a vanished worker may be taken over after 2 s
        "EMAIL_TIMEOUT": "60",
    }
    smtp_server.handler.delay, smtp_server.handler.delay_count = (
        30.0,
        1,
    )  # the first delivery hangs in DATA
    first = celery_worker_factory(**timing)
    _forgot_with_mail(lr)
    assert smtp_server.handler.started.wait(60), first.log()
    row = OutboxMessage.objects.get()
    assert row.status == "sending" and row.attempts == 1
    first.kill()
    assert wait_until(lambda: smtp_server.handler.abandoned, timeout=10), (
        "the worker's SMTP session stayed open"
    )
    assert smtp_server.messages == []  # the SMTP transaction never completed

    time.sleep(
        3.5
    )  # the broker gives the unacknowledged task out again only past its visibility timeout
    second = celery_worker_factory(**timing)
    messages = smtp_server.handler.wait_for(1, timeout=20)
    print("redelivered by:", "broker" if messages else "relay")
    if not messages:
        # The broker restores unacknowledged tasks on a timer; the relay, which beat runs,
        # also hands over claims whose worker vanished. Either way it must arrive once.
        from tokens.message_tasks import outbox_relay_task

        outbox_relay_task.delay()
        messages = smtp_server.handler.wait_for(1, timeout=40)
    assert len(messages) == 1, second.log()
    assert wait_until(broker_idle, timeout=40), "tasks still wait in the broker"
    assert len(smtp_server.messages) == 1
    row = wait_until(lambda: OutboxMessage.objects.filter(status="sent").first(), timeout=30)
    assert row.attempts == 2 and row.provider_message_id == messages[0]["Message-ID"]


@contextlib.contextmanager
def _broker_unreachable():
    """Point this process's Celery producer at a port where nothing listens."""
    from portal.celery import app

    saved = app.conf.broker_url, app.conf.broker_write_url

    def reset_pools():
        # Celery offers no public way to forget these (close() also deregisters the app).
        app._pool = None  # noqa: SLF001
        app.amqp._producer_pool = None  # noqa: SLF001

    dead = f"redis://127.0.0.1:{free_port()}/0"
    app.conf.broker_url = app.conf.broker_write_url = dead
    reset_pools()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.broker_write_url = saved
        reset_pools()


def test_broker_down_at_commit_the_relay_delivers_once_it_is_back(
    lr, person, smtp_server, celery_worker_factory
):
    from tokens.message_tasks import outbox_relay_task

    worker = celery_worker_factory(OUTBOX_RELAY_AFTER_SECONDS="0")
    with _broker_unreachable():
        token = _forgot_with_mail(lr)  # the API call itself succeeds
    assert broker_idle()  # the task never reached the broker
    assert smtp_server.messages == []
    assert OutboxMessage.objects.get().status == "queued"
    outbox_relay_task.delay()  # what beat runs every OUTBOX_RELAY_INTERVAL_SECONDS
    messages = smtp_server.handler.wait_for(1, timeout=60)
    assert len(messages) == 1, worker.log()
    assert f"vtoken={token}" in messages[0].get_body(("plain",)).get_content()
    outbox_relay_task.delay()  # a second relay run finds nothing to do
    assert wait_until(broker_idle, timeout=30), worker.log()
    assert len(smtp_server.messages) == 1
    assert OutboxMessage.objects.get().status == "sent"
