"""Real access tokens for the token-side endpoints.

`tokens[alias] = account` signs the account in through the session service and elevates
the token through the service a token-side reauthentication uses, so factor changes are
allowed as the security model says; `bearer(alias)` is the token to send. Tests of the
model itself (tests/hardening/test_token_model.py) issue plain, elevated and impersonation
tokens through the API.
"""

import pytest
from rest_framework.test import APIClient

from portal.audit import Actor
from tests.console.conftest import make_staff  # noqa: F401
from tokens.commands import SessionIssue
from tokens.services.sessions import access_token_elevate, session_issue

_ISSUED: dict[str, str] = {}


def bearer(alias: str) -> str:
    """The real token issued for `alias`; an alias never issued is sent as it is (905)."""
    return _ISSUED.get(alias, alias)


class IssuedTokens:
    def __init__(self, *, elevate: bool = True):
        self.elevate = elevate

    def __setitem__(self, alias: str, account) -> None:
        issued = session_issue(
            SessionIssue(), tenant=account.tenant, account=account, actor=Actor.account(account.uid)
        )
        if self.elevate:
            access_token_elevate(
                tenant=account.tenant,
                access_token=issued.access_token,
                actor=Actor.account(account.uid),
                method="test",
            )
        _ISSUED[alias] = issued.access_token

    def __getitem__(self, alias: str) -> str:
        return _ISSUED[alias]


@pytest.fixture
def tokens(db):
    """`tokens[alias] = account`: an elevated sign-in token of the account under `alias`."""
    _ISSUED.clear()
    yield IssuedTokens()
    _ISSUED.clear()


def reauth(tenant, kind, body, token="tok-member"):
    client = APIClient()
    return client.put(
        f"/identity/v2/auth/account/reauth/{kind}?apikey={tenant.api_key}",
        body,
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {bearer(token)}",
    )
