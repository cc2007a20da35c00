"""Multipurpose email tokens and SMS OTPs, and the messages that deliver them."""

from portal.audit import Actor


def verification_email_send(
    *, tenant, account, email: str, actor: Actor, template: str = "", verification_url: str = ""
) -> None:
    """Queue an email-verification message for `email` of `account` (in the caller's
    transaction; delivered after commit)."""


def phone_verification_send(
    *, tenant, account, actor: Actor, template: str = "", voice: bool = False
) -> None:
    """Queue a phone-verification OTP SMS to the account's phone."""
