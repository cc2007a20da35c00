"""The typed commands of the job services (portal/commands.py)."""

from dataclasses import dataclass, field
from typing import Any

from portal.commands import Command, command


@command("job.create")
@dataclass(frozen=True)
class JobCreate(Command):
    """Run `action` on every selected account (jobs.services.job_create): the accounts named
    by `uids`, or those the account search `filter` (the query parameters of
    GET /api/v1/accounts) finds now. `expected_count`: what a dry run reported; the
    destructive actions need it."""

    action: str
    uids: tuple[str, ...] = ()
    filter: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    expected_count: int | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "JobCreate":
        return cls(
            action="assign_roles",
            filter={"email_prefix": "ann", "blocked": "false"},
            params={"roles": ["editor"]},
            expected_count=12,
            reason="team onboarding",
            ticket="HR-12",
        )


@command("job.cancel")
@dataclass(frozen=True)
class JobCancel(Command):
    """Stop a job: the rows not yet run are not run (jobs.services.job_cancel)."""

    job_id: int
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "JobCancel":
        return cls(job_id=41, reason="wrong selection")


@command("job.revert")
@dataclass(frozen=True)
class JobRevert(Command):
    """A new job undoing the rows `job_id` applied (jobs.services.job_revert); a row whose
    account changed since is skipped."""

    job_id: int
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "JobRevert":
        return cls(job_id=41, reason="blocked the wrong accounts", ticket="RISK-12")


@command("job.batch_run")
@dataclass(frozen=True)
class JobBatchRun(Command):
    """Run the next `batch_size` pending rows of a job (jobs.services.job_batch_run): what a
    worker is asked to do, each row running the job's own stored command."""

    job_id: int
    batch_size: int = 500  # jobs.services.BATCH_SIZE

    @classmethod
    def example(cls) -> "JobBatchRun":
        return cls(job_id=41, batch_size=200)
