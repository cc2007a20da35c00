from tests.console.conftest import console_client, make_staff  # noqa: F401
