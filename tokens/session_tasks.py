"""Periodic jobs of the session section."""

from celery import shared_task

from tokens.services.sessions import sessions_purge

__all__ = ["sessions_purge_task"]


@shared_task(name="tokens.sessions_purge")
def sessions_purge_task() -> dict[str, int]:
    """Delete expired tokens and erase sealed refresh successors past their grace window."""
    return sessions_purge()
