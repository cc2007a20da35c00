"""Celery tasks of the tokens app (Celery discovers this module)."""

from tokens.message_tasks import (
    message_deliver_task,
    multipurpose_tokens_purge_task,
    outbox_relay_task,
)
from tokens.session_tasks import sessions_purge_task

__all__ = [
    "message_deliver_task",
    "multipurpose_tokens_purge_task",
    "outbox_relay_task",
    "sessions_purge_task",
]
