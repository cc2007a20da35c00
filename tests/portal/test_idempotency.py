"""`Idempotency-Key` on the native API's POSTs (portal/idempotency.py, docs/api.md)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from portal.idempotency import IdempotencyRecord
from portal.models import ApiCredential
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory
from tests.portal.conftest import PROBE_URLS

pytestmark = [pytest.mark.django_db, pytest.mark.urls(PROBE_URLS)]

PROBE = "/api/v1/_probe/native-credentials"
PROBLEM = "application/problem+json"


def post(lr, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return lr.client.post(
        f"{PROBE}?apikey={lr.credential.tenant.api_key}",
        json.dumps(body),
        content_type="application/json",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
        **headers,
    )


def created(tenant) -> int:
    return ApiCredential.objects.filter(tenant=tenant, label__startswith="probe").count()


def test_the_same_key_and_body_answer_the_first_response_without_a_second_effect(lr, tenant):
    first = post(lr, {"label": "probe-1"}, key="k-1")
    assert first.status_code == 201
    again = post(lr, {"label": "probe-1"}, key="k-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert created(tenant) == 1


def test_a_replayed_refusal_is_still_problem_details(lr, tenant):
    first = post(lr, {"label": "x" * 500}, key="k-refused")
    assert first.status_code == 400 and first["Content-Type"].startswith(PROBLEM)
    again = post(lr, {"label": "x" * 500}, key="k-refused")
    assert (again.status_code, again.json()) == (400, first.json())
    assert again["Content-Type"].startswith(PROBLEM) and again["Idempotent-Replayed"] == "true"


def test_without_a_key_each_post_runs(lr, tenant):
    post(lr, {"label": "probe-a"})
    post(lr, {"label": "probe-a"})
    assert created(tenant) == 2


def test_the_same_key_with_another_body_answers_422(lr, tenant):
    post(lr, {"label": "probe-1"}, key="k-2")
    response = post(lr, {"label": "probe-2"}, key="k-2")
    assert response.status_code == 422 and response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == "idempotency.key_reused"
    assert created(tenant) == 1


def test_a_duplicate_while_the_first_still_runs_answers_409(lr, tenant):
    post(lr, {"label": "probe-1"}, key="k-3")
    IdempotencyRecord.objects.filter(key="k-3").update(completed=False)
    response = post(lr, {"label": "probe-1"}, key="k-3")
    assert response.status_code == 409 and response.json()["code"] == "idempotency.in_flight"
    assert created(tenant) == 1


def test_keys_are_scoped_per_credential(lr, tenant):
    other = LRClient(ApiCredentialFactory(tenant=tenant))
    post(lr, {"label": "probe-1"}, key="shared")
    assert post(other, {"label": "probe-1"}, key="shared").status_code == 201
    assert created(tenant) == 2


def test_a_server_error_releases_the_key(lr, tenant):
    failed = post(lr, {"label": "probe-1", "explode": True}, key="k-4")
    assert failed.status_code == 500 and failed.json()["code"] == "internal_error"
    assert not IdempotencyRecord.objects.filter(key="k-4").exists()
    assert post(lr, {"label": "probe-1", "explode": True}, key="k-4").status_code == 500


def test_a_stored_response_keeps_its_secret_encrypted(lr):
    secret = post(lr, {"label": "probe-1"}, key="k-5").json()["secret"]
    stored = IdempotencyRecord.objects.get(key="k-5")
    assert stored.completed and secret not in stored.response


def test_keys_are_kept_for_a_day(lr, tenant):
    post(lr, {"label": "probe-1"}, key="k-6")
    with freeze_time(timezone.now() + timedelta(hours=25)):
        assert post(lr, {"label": "probe-1"}, key="k-6").status_code == 201
    assert created(tenant) == 2


def test_a_malformed_key_answers_400(lr, tenant):
    response = post(lr, {"label": "probe-1"}, key="x" * 201)
    assert response.status_code == 400 and response.json()["code"] == "idempotency.key_invalid"
    assert created(tenant) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_once(tenant, credential):
    """Six threads send the same request with one key at once: one runs it; the others
    answer its response once it is stored, or 409 while it runs."""
    from tests.concurrency import run_concurrently

    def call(_):
        return post(LRClient(credential), {"label": "probe-race"}, key="race").status_code

    statuses = run_concurrently(call, 6, pass_index=True)
    assert created(tenant) == 1
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}


def test_the_hourly_purge_drops_keys_past_their_day(lr):
    from django.conf import settings

    from portal.tasks import idempotency_records_purge_task

    post(lr, {"label": "probe-1"}, key="old")
    with freeze_time(timezone.now() + timedelta(hours=23)):
        post(lr, {"label": "probe-2"}, key="young")
    with freeze_time(timezone.now() + timedelta(hours=25)):
        assert idempotency_records_purge_task() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]
    schedule = settings.CELERY_BEAT_SCHEDULE["idempotency-records-purge"]
    assert schedule["task"] == idempotency_records_purge_task.name
