import pytest

from portal.audit import Actor
from portal.models import AuditEvent
from tests.factories import AccountFactory
from tokens.commands import SessionIssue
from tokens.services import sessions


@pytest.fixture
def issue():
    """Open a session the way a sign-in would (the account is its own actor)."""

    def make(account, command=None, *, actor=None):
        return sessions.session_issue(
            command or SessionIssue(),
            tenant=account.tenant,
            account=account,
            actor=actor or Actor.account(account.uid),
        )

    return make


@pytest.fixture
def other_account(other_tenant):
    return AccountFactory(tenant=other_tenant)


@pytest.fixture
def actions():
    """The audit actions written so far, oldest first."""

    def read(**filters):
        return list(
            AuditEvent.objects.filter(**filters).order_by("id").values_list("action", flat=True)
        )

    return read
