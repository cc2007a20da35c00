import pytest

from portal.audit import Actor
from roles import services as role_services
from roles.commands import RoleInput, RolesCreate
from tests.console.conftest import console_client, make_staff  # noqa: F401
from tests.factories import AccountFactory

SYSTEM = Actor.system("tests")
JOBS = "/api/v1/jobs"
PROBLEM = "application/problem+json"


@pytest.fixture
def accounts(tenant):
    """Three accounts of the tenant, oldest first, with a shared email prefix."""
    return [AccountFactory(tenant=tenant, email=f"bulk{i}@example.com") for i in range(3)]


@pytest.fixture
def editor_role(tenant):
    return role_services.roles_create(
        RolesCreate(roles=(RoleInput(name="editor", permissions=("edit",)),)),
        tenant=tenant,
        actor=SYSTEM,
    )[0]


def run_job(job_id: int) -> None:
    """Run a job as a worker does: the task runs a batch and chains the next ones (inline,
    CELERY_TASK_ALWAYS_EAGER being on in the tests)."""
    from jobs.tasks import job_run_task

    job_run_task(job_id)
