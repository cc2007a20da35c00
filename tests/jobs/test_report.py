"""The job report is CSV whose cells no spreadsheet takes for a formula."""

import csv
import io

import pytest

from portal.csv_safety import csv_text, safe_cell
from tests.factories import AccountFactory
from tests.jobs.conftest import JOBS, run_job

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (None, ""),
        (3, "3"),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_csv_text_escapes_every_cell_header_included():
    text = csv_text(["=h"], [["-x", "ok"]])
    assert list(csv.reader(io.StringIO(text))) == [["'=h"], ["'-x", "ok"]]


def test_the_report_escapes_uids_and_details(lr, tenant):
    account = AccountFactory(tenant=tenant, uid="-evil")
    job = lr.post(
        JOBS,
        {"action": "unblock", "uids": [account.uid, "=cmd|'/c calc'!A1"], "reason": "r"},
    ).json()
    run_job(job["id"])
    response = lr.get(f"{JOBS}/{job['id']}/report")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["uid", "result", "detail"],
        ["'-evil", "applied", ""],
        ["'=cmd|'/c calc'!A1", "not_found", "No account has this UID."],
    ]
