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


def message_enqueue(
    *,
    tenant,
    account,
    channel: str,
    template: str,
    recipient: str,
    context: dict,
    expires_at=None,
):
    """Write an outbox message (channel "email" or "sms") in the caller's transaction and
    schedule its delivery after commit. `template` names templates/emails/<template>.* or
    templates/sms/<template>.txt. Messages whose `expires_at` has passed are never sent."""
    raise NotImplementedError("the outbox is not implemented yet")


def account_tokens_retire(*, account, purposes: list[str]) -> int:
    """Retire the account's live multipurpose tokens of these purposes (e.g. a password
    change retires "forgotpassword" tokens). Returns how many were retired."""
    return 0
