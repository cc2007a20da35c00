"""Audit actions of the tokens app; each area registers its own."""

from tokens import message_audit_actions, session_audit_actions  # noqa: F401
