from urllib.parse import urlencode

import pytest

from customobjects import services
from customobjects.commands import ObjectTypeCreate
from portal.audit import Actor


@pytest.fixture
def make_type(tenant):
    def make(name="orders", *, schema=None, of_tenant=None, **limits):
        return services.object_type_create(
            ObjectTypeCreate(name=name, schema=schema, limits=limits),
            tenant=of_tenant or tenant,
            actor=Actor.system("test"),
        )

    return make


@pytest.fixture
def object_type(make_type):
    return make_type("orders")


@pytest.fixture
def send_raw(credential):
    """Send a raw body (bytes) the way an SDK would, for bodies the JSON client cannot make."""

    def send(client, method, path, data: bytes, params=None, **headers):
        query = urlencode({"apikey": credential.tenant.api_key, **(params or {})})
        headers.setdefault("HTTP_X_LOGINRADIUS_APISECRET", credential.raw)
        return client.generic(
            method, f"{path}?{query}", data, content_type="application/json", **headers
        )

    return send


def manage_path(uid, record_id=None):
    path = f"/identity/v2/manage/account/{uid}/customobject"
    return f"{path}/{record_id}" if record_id else path
