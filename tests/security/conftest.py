
import pytest
from rest_framework.test import APIClient

from portal.lrapi.errors import LRError


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
