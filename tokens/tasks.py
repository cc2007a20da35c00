"""Celery tasks of the tokens app (Celery discovers this module)."""

from tokens.message_tasks import *  # noqa: F403
from tokens.session_tasks import *  # noqa: F403
