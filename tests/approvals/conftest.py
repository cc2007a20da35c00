from tests.console.conftest import console_client, make_staff  # noqa: F401
from tests.messages.conftest import eager_tasks  # noqa: F401
