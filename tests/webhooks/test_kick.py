"""A committed event kicks the relay at once (portal/events.py `subscribe_every_type`):
inline where tasks run inline, through a real Celery worker over Redis otherwise."""

import pytest
from standardwebhooks.webhooks import Webhook

from tests.messages.conftest import celery_worker_factory, smtp_server  # noqa: F401
from tests.waiting import wait_until
from tests.webhooks.conftest import record, register


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_tasks")
def test_a_committed_event_is_delivered_without_waiting_for_the_beat(
    admin, tenant, receiver, account, django_capture_on_commit_callbacks
):
    hook = register(admin, receiver.url, ["account.updated"])
    with django_capture_on_commit_callbacks(execute=True):
        event = record(
            tenant, "account.updated", uid=account.uid, changes={"FirstName": ["A", "B"]}
        )
    [request] = receiver.requests
    assert request.headers["webhook-id"] == f"evt_{event.pk}"
    Webhook(hook["secret"]).verify(request.body, request.headers)


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_tasks")
def test_a_rolled_back_change_kicks_nothing_and_sends_nothing(
    admin, tenant, receiver, account, django_capture_on_commit_callbacks
):
    from django.db import transaction

    register(admin, receiver.url, ["account.updated"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                record(
                    tenant, "account.updated", uid=account.uid, changes={"FirstName": ["A", "B"]}
                )
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert callbacks == [] and receiver.requests == []


@pytest.mark.celery_worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_what_an_api_call_changed(
    admin,
    lr,
    tenant,
    receiver,
    account,
    settings,
    celery_worker_factory,  # noqa: F811
):
    # The worker is another process: the operator setting lets it reach the loopback receiver.
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    worker = celery_worker_factory(WEBHOOKS_ALLOW_PRIVATE_NETWORKS="1")
    hook = register(admin, receiver.url, ["account.updated"])
    response = lr.put(f"/identity/v2/manage/account/{account.uid}", {"FirstName": "Worker"})
    assert response.status_code == 200, response.content
    assert wait_until(lambda: receiver.requests, timeout=60), worker.log()
    [request] = receiver.requests
    payload = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "account.updated" and payload["data"]["uid"] == account.uid
