"""The console's job pages: staff who may act on the tenant's accounts see its jobs, a
progress part that htmx polls while the job runs, and the CSV report."""

import pytest

from tests.factories import AccountFactory
from tests.jobs.conftest import JOBS, run_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(lr, tenant):
    account = AccountFactory(tenant=tenant, uid="=formula")
    response = lr.post(JOBS, {"action": "unblock", "uids": [account.uid, "ghost"], "reason": "r"})
    return response.json()


def test_a_job_page_shows_progress_that_polls_until_the_job_finished(
    job,
    tenant,
    make_staff,
    console_client,
):
    client = console_client(make_staff("Agent", tenant))
    listing = client.get("/console/jobs/")
    assert listing.status_code == 200 and f"/console/jobs/{job['id']}/" in listing.content.decode()
    page = client.get(f"/console/jobs/{job['id']}/").content.decode()
    assert 'hx-trigger="every 2s"' in page and "1 of 2 processed" in page
    assert f"/console/jobs/{job['id']}/report.csv" in page
    run_job(job["id"])
    part = client.get(f"/console/jobs/{job['id']}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in part and "hx-trigger" not in part
    assert "2 of 2 processed" in part and "1 succeeded" in part and "1 failed" in part
    report = client.get(f"/console/jobs/{job['id']}/report.csv")
    assert report["Content-Type"].startswith("text/csv")
    assert report.content.decode().splitlines()[1] == "'=formula,applied,"


def test_staff_without_manage_accounts_are_refused(job, tenant, make_staff, console_client):
    viewer = console_client(make_staff("Agent", tenant, perms=["view_accounts"]))
    assert viewer.get("/console/jobs/").status_code == 403
    assert viewer.get(f"/console/jobs/{job['id']}/").status_code == 403
    assert viewer.get(f"/console/jobs/{job['id']}/report.csv").status_code == 403


def test_another_tenants_job_is_not_found(job, other_tenant, make_staff, console_client):
    outsider = console_client(make_staff("Agent", other_tenant))
    assert outsider.get(f"/console/jobs/{job['id']}/").status_code == 404
    assert outsider.get(f"/console/jobs/{job['id']}/report.csv").status_code == 404
