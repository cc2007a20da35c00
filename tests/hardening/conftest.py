import pytest

from portal import ratelimit


def set_tenant_settings(tenant, **values) -> None:
    tenant.settings = {**(tenant.settings or {}), **values}
    tenant.save(update_fields=["settings"])


@pytest.fixture(autouse=True)
def _rate_limit_breaker_reset():
    """A cache outage recorded by one test must not switch limits off in the next."""
    ratelimit.reset()
    yield
    ratelimit.reset()


from tests.console.conftest import console_client, make_staff  # noqa: E402, F401  (fixtures)
