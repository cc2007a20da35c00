"""The account's own records at /identity/v2/auth/customobject[/{id}] (access token)."""

from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from customobjects.models import CustomObjectRecord
from portal.audit import Actor
from portal.models import AuditEvent
from tests.factories import AccountFactory

AUTH = "/identity/v2/auth/customobject"


@pytest.fixture
def access_token(tenant, account):
    from tokens.commands import SessionIssue
    from tokens.services.sessions import session_issue

    return session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
    ).access_token


class TokenClient:
    """Calls the token-side API like the SDK: apikey and objectName in the query, Bearer token."""

    def __init__(self, tenant, token):
        self.tenant, self.token, self.client = tenant, token, APIClient()

    def call(self, method, path, body=None, params=None, bearer=True, **headers):
        query = {"apiKey": self.tenant.api_key, "objectName": "orders", **(params or {})}
        if bearer:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        kwargs = {"format": "json"} if body is not None else {}
        return getattr(self.client, method)(f"{path}?{urlencode(query)}", body, **kwargs, **headers)


@pytest.fixture
def me(tenant, access_token):
    return TokenClient(tenant, access_token)


@pytest.mark.django_db
def test_the_account_manages_its_own_records(me, account, object_type):
    created = me.call("post", AUTH, {"a": 1, "b": 2})
    assert created.status_code == 200, created.json()
    record_id = created.json()["Id"]
    assert created.json()["Uid"] == account.uid
    listing = me.call("get", AUTH).json()
    assert listing["Count"] == 1 and listing["data"][0]["Id"] == record_id
    assert me.call("get", f"{AUTH}/{record_id}").json()["CustomObject"] == {"a": 1, "b": 2}
    merged = me.call(
        "put", f"{AUTH}/{record_id}", {"c": 3}, params={"updateType": "partialreplace"}
    )
    assert merged.json()["CustomObject"] == {"a": 1, "b": 2, "c": 3}
    replaced = me.call("put", f"{AUTH}/{record_id}", {"d": 4}, params={"updateType": "replace"})
    assert replaced.json()["CustomObject"] == {"d": 4}
    assert me.call("delete", f"{AUTH}/{record_id}", {}).json() == {"IsDeleted": True}
    assert not CustomObjectRecord.objects.exists()
    events = AuditEvent.objects.filter(action__startswith="customobject.")
    assert {e.actor_type for e in events} == {AuditEvent.ACTOR_ACCOUNT}
    assert {e.subject_uid for e in events} == {account.uid}


@pytest.mark.django_db
def test_token_in_the_query_works_too(me, object_type):
    res = me.call("post", AUTH, {"a": 1}, params={"access_token": me.token}, bearer=False)
    assert res.status_code == 200, res.json()


@pytest.mark.django_db
def test_another_accounts_record_is_not_found(me, tenant, object_type, lr):
    other = AccountFactory(tenant=tenant)
    theirs = lr.post(
        f"/identity/v2/manage/account/{other.uid}/customobject",
        {"x": 1},
        params={"objectname": "orders"},
    ).json()
    for method, body in (("get", None), ("put", {"y": 2}), ("delete", {})):
        assert me.call(method, f"{AUTH}/{theirs['Id']}", body).json()["ErrorCode"] == 1057
    assert CustomObjectRecord.objects.get().data == {"x": 1}


@pytest.mark.django_db
def test_missing_or_bad_token(tenant, object_type):
    client = TokenClient(tenant, "")
    assert client.call("get", AUTH, bearer=False).json()["ErrorCode"] == 1060
    bad = TokenClient(tenant, "00000000-0000-0000-0000-000000000000")
    assert bad.call("post", AUTH, {"a": 1}).json()["ErrorCode"] == 905
    assert not CustomObjectRecord.objects.exists()


@pytest.mark.django_db
def test_token_side_errors(me, make_type):
    assert me.call("get", AUTH).json()["ErrorCode"] == 999
    make_type("other")
    assert me.call("get", AUTH).json()["ErrorCode"] == 1064
