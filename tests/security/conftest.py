import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from portal.lrapi.errors import LRError
from tokens.services import sessions


@pytest.fixture(autouse=True)
def _session_issue_available(monkeypatch):
    """Sign-in tests need a session pair; while the session service is not implemented,
    a stand-in with the same signature issues one."""
    try:
        sessions.session_issue(tenant=None, account=None, actor=None)
    except NotImplementedError:
        def fake_issue(*, tenant, account, actor, reason="", device=None):
            now = timezone.now()
            return sessions.IssuedSession(str(uuid.uuid4()), str(uuid.uuid4()), now + timedelta(hours=1), now + timedelta(days=60))

        monkeypatch.setattr(sessions, "session_issue", fake_issue)
    except Exception:  # implemented: it rejected the dummy arguments
        pass


class Resolved:
    def __init__(self, account):
        self.account = account


@pytest.fixture
def tokens(monkeypatch):
    """Access tokens for the token-side endpoints: `tokens[token] = account`."""
    known = {}

    def resolve(*, tenant, token):
        if not token:
            raise LRError(1060)
        account = known.get(token)
        if account is None or account.tenant_id != tenant.pk:
            raise LRError(905)
        return Resolved(account)

    monkeypatch.setattr("tokens.selectors.access_token_resolve", resolve)
    return known


def reauth(tenant, kind, body, token="tok-member"):
    client = APIClient()
    return client.put(f"/identity/v2/auth/account/reauth/{kind}?apikey={tenant.api_key}", body, format="json", HTTP_AUTHORIZATION=f"Bearer {token}")
