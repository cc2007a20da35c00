import csv
import io
import json

import pytest
from django.core.management import call_command

from portal.audit import Actor
from roles import services as role_services
from roles.commands import RoleInput, RolesCreate


@pytest.fixture
def roles(tenant):
    return role_services.roles_create(
        RolesCreate(
            roles=[
                RoleInput(name="editor", permissions=("edit",)),
                RoleInput(name="viewer", permissions=("view",)),
            ]
        ),
        tenant=tenant,
        actor=Actor.system("tests"),
    )


@pytest.fixture
def run_import(tmp_path):
    """Write `lines` (dicts for JSONL, or raw text) to a file and run accounts_import on it."""

    def run(tenant, lines, *, suffix=".jsonl", args=(), name="in"):
        path = tmp_path / f"{name}{suffix}"
        if isinstance(lines, str):
            path.write_text(lines)
        else:
            path.write_text(
                "".join((json.dumps(x) if not isinstance(x, str) else x) + "\n" for x in lines)
            )
        call_command("accounts_import", str(path), "--tenant", tenant.slug, "--no-progress", *args)
        return path

    return run


def error_rows(path):
    report = path.parent / (path.name + ".errors.csv")
    return list(csv.reader(io.StringIO(report.read_text())))[1:]


# The console's staff fixtures, for the console search page budget.
from tests.console.conftest import console_client, make_staff  # noqa: E402, F401
