"""The typed commands of the approval services (portal/commands.py)."""

from dataclasses import dataclass, field
from typing import Any

from portal.commands import Command, command


@command("approval.request")
@dataclass(frozen=True)
class ApprovalRequestCreate(Command):
    """Hold `command` (a stored command, `to_json(seal=True)`) until a second person approves
    it (approvals.services.approval_request). `gate`: the policy entry that asked for it."""

    gate: str
    command: dict[str, Any] = field(default_factory=dict)
    account_uid: str = ""
    summary: str = ""
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "ApprovalRequestCreate":
        return cls(
            gate="account.delete",
            command={"type": "account.delete", "data": {"reason": "erasure request"}},
            account_uid="6b5f0c1d2e3a4b5c",
            summary="Delete the account of Ann Lee",
            reason="erasure request",
            ticket="GDPR-4",
        )


@command("approval.approve")
@dataclass(frozen=True)
class ApprovalApprove(Command):
    """Approve a pending request: its command runs now, once (approvals.services.approval_approve)."""

    request_id: int
    note: str = ""

    @classmethod
    def example(cls) -> "ApprovalApprove":
        return cls(request_id=7, note="checked the ticket")


@command("approval.deny")
@dataclass(frozen=True)
class ApprovalDeny(Command):
    """Refuse a pending request: its command never runs (approvals.services.approval_deny)."""

    request_id: int
    note: str = ""

    @classmethod
    def example(cls) -> "ApprovalDeny":
        return cls(request_id=7, note="no ticket for this")


@command("approval.cancel")
@dataclass(frozen=True)
class ApprovalCancel(Command):
    """Withdraw one's own pending request (approvals.services.approval_cancel)."""

    request_id: int
    note: str = ""

    @classmethod
    def example(cls) -> "ApprovalCancel":
        return cls(request_id=7, note="asked the wrong account")


@command("approval.expire")
@dataclass(frozen=True)
class ApprovalExpire(Command):
    """Close a pending request whose time ran out (approvals.services.approval_expire)."""

    request_id: int

    @classmethod
    def example(cls) -> "ApprovalExpire":
        return cls(request_id=7)


@command("approval.result_collect")
@dataclass(frozen=True)
class ApprovalResultCollect(Command):
    """The requester takes what the approved command produced (an impersonation token),
    once, before it expires (approvals.services.approval_result_collect)."""

    request_id: int

    @classmethod
    def example(cls) -> "ApprovalResultCollect":
        return cls(request_id=7)
