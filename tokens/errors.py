"""The tokens app's named errors: what its session and messaging services refuse.

Registered with `portal.errors.register` when the app is ready (tokens/apps.py); their
LoginRadius rows are in tokens/api/lr_errors.py. A refusal LoginRadius answers with one
code per channel or per way a token is presented (an email verification link, another
link, an OTP) has one class per code, so each maps to exactly one row; the bases are
what a caller catches.
"""

from portal.errors import DomainError, Kind, register

# Access and refresh tokens -------------------------------------------------------------


@register
class AccessTokenMissing(DomainError):
    code = "access_token.missing"
    title = "Access token missing"
    default_message = "The request carries no access token."


@register
class AccessTokenInvalid(DomainError):
    """Unknown, revoked, malformed or another tenant's: one answer, so it tells nothing."""

    code = "access_token.invalid"
    kind = Kind.FORBIDDEN
    title = "Access token not valid"
    default_message = "The access token is not valid; sign in again."


@register
class AccessTokenExpired(DomainError):
    code = "access_token.expired"
    kind = Kind.FORBIDDEN
    title = "Access token expired"
    default_message = "The access token has expired; refresh it or sign in again."


@register
class RefreshTokenMissing(DomainError):
    code = "refresh_token.missing"
    title = "Refresh token missing"
    default_message = "The request carries no refresh token."


@register
class RefreshTokenInvalid(DomainError):
    """Unknown, rotated, revoked, expired, malformed or another tenant's."""

    code = "refresh_token.invalid"
    kind = Kind.FORBIDDEN
    title = "Refresh token not valid"
    default_message = "The refresh token is not valid; sign in again."


# Sessions ------------------------------------------------------------------------------


@register
class SessionNotFound(DomainError):
    """Another account's or tenant's session, or one already ended."""

    code = "session.not_found"
    kind = Kind.NOT_FOUND
    title = "Session not found"
    default_message = "The session does not exist for this account."


@register
class SessionAccountBlocked(DomainError):
    """A blocked account gets no new session and cannot renew one."""

    code = "session.account_blocked"
    kind = Kind.FORBIDDEN
    title = "Account blocked"
    default_message = "The account is blocked; no session can be opened or renewed for it."


@register
class ImpersonationNotElevatable(DomainError):
    code = "session.impersonation_not_elevatable"
    kind = Kind.FORBIDDEN
    title = "Impersonation token cannot be elevated"
    default_message = "An impersonation access token cannot be elevated."


# Multipurpose tokens, by how they are presented ----------------------------------------


@register
class MultipurposeTokenUnknown(DomainError):
    """No such token, or it was retired. Raised as is for a token sent in a link; the
    subclasses name the other ways a token is presented (so for Used and Expired)."""

    code = "multipurpose_token.unknown"
    kind = Kind.FORBIDDEN
    title = "Token not valid"
    default_message = "The link is not valid; request a new one."


@register
class MultipurposeTokenUsed(DomainError):
    """Tokens are single-use."""

    code = "multipurpose_token.used"
    kind = Kind.FORBIDDEN
    title = "Token already used"
    default_message = "The link has already been used; request a new one."


@register
class MultipurposeTokenExpired(DomainError):
    code = "multipurpose_token.expired"
    kind = Kind.FORBIDDEN
    title = "Token expired"
    default_message = "The link has expired; request a new one."


@register
class VerificationLinkUnknown(MultipurposeTokenUnknown):
    code = "verification_link.unknown"
    title = "Email verification link not valid"
    default_message = "The email verification link is not valid; request a new one."


@register
class VerificationLinkUsed(MultipurposeTokenUsed):
    code = "verification_link.used"
    title = "Email verification link already used"
    default_message = "The email verification link has already been used."


@register
class VerificationLinkExpired(MultipurposeTokenExpired):
    code = "verification_link.expired"
    title = "Email verification link expired"
    default_message = "The email verification link has expired; request a new one."


@register
class OtpUnknown(MultipurposeTokenUnknown):
    code = "otp.unknown"
    title = "OTP not valid"
    default_message = "The OTP is not valid; request a new one."


@register
class OtpUsed(MultipurposeTokenUsed):
    code = "otp.used"
    title = "OTP already used"
    default_message = "The OTP has already been used; request a new one."


@register
class OtpExpired(MultipurposeTokenExpired):
    code = "otp.expired"
    title = "OTP expired"
    default_message = "The OTP has expired; request a new one."


# Sending limits, by channel ------------------------------------------------------------


class SendLimitReached(DomainError):
    """A sending limit is spent; `retry_after` (whole seconds, at least 1) says when it frees."""

    kind = Kind.TOO_MANY

    def __init__(self, message: str | None = None, *, retry_after: float | None = None):
        super().__init__(
            message, retry_after=None if retry_after is None else max(1, int(retry_after))
        )


@register
class SendCooldownActive(SendLimitReached):
    """Raised as is for email; SMS has its own subclass (so for DailyCapReached)."""

    code = "message.send_cooldown"
    title = "Sent too recently"
    default_message = (
        "A message was sent to this address moments ago; wait before asking for another."
    )


@register
class SmsSendCooldownActive(SendCooldownActive):
    code = "message.sms_send_cooldown"
    title = "Text message sent too recently"
    default_message = (
        "A text message was sent to this phone number moments ago; wait before asking for another."
    )


@register
class DailyCapReached(SendLimitReached):
    code = "message.daily_cap_reached"
    title = "Daily email limit reached"
    default_message = "The application has sent as many emails today as it may; try again tomorrow."


@register
class SmsDailyCapReached(DailyCapReached):
    code = "message.sms_daily_cap_reached"
    title = "Daily text message limit reached"
    default_message = (
        "The application has sent as many text messages today as it may; try again tomorrow."
    )


# Outbox messages -----------------------------------------------------------------------


@register
class MessageNotFound(DomainError):
    """Another tenant's message, or an id that names none."""

    code = "message.not_found"
    kind = Kind.NOT_FOUND
    title = "Message not found"
    default_message = "The application has no message with this id."


@register
class MessageNotResendable(DomainError):
    """The message cannot be queued again as it is: it is still waiting for delivery, its
    content (which may carry a one-time secret) was erased once it was sent or given up,
    or the token it carries is no longer valid."""

    code = "message.not_resendable"
    kind = Kind.CONFLICT
    title = "Message cannot be sent again"
    default_message = "The message cannot be sent again."
