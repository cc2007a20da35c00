"""Messaging: multipurpose email tokens and SMS OTPs, and the outbox that delivers them.

One module per concern: `issuing` (tokens and the messages carrying them), `consuming`
(using a token; the actions it authorizes are flows.token_consumption), `limits` (cooldowns and daily caps),
`templates`, `outbox` (queueing) and `delivery` (sending, retries, the relay). Callers
import from here.
"""

from tokens.services.multipurpose.consuming import (
    EMAIL_LINK_ERRORS,
    LINK_ERRORS,
    OTP_ERRORS,
    token_consume,
    token_consumed_record,
)
from tokens.services.multipurpose.delivery import (
    DeliveryError,
    DeliveryOutcome,
    message_deliver,
    outbox_relay,
    retry_delay,
)
from tokens.services.multipurpose.issuing import (
    EMAIL_TOKEN_TYPES,
    SMS_OTP_TYPES,
    IssuedToken,
    account_tokens_retire,
    lr_datetime,
    multipurpose_tokens_purge,
    phone_verification_send,
    token_issue,
    verification_email_send,
)
from tokens.services.multipurpose.outbox import (
    account_messages_list,
    message_context,
    message_enqueue,
)
from tokens.services.multipurpose.resending import message_resend
from tokens.services.multipurpose.templates import (
    FALLBACK_TEMPLATE,
    TEMPLATE_NAME,
    email_template_resolve,
    render_sms,
    sms_template_resolve,
)

__all__ = [
    "EMAIL_LINK_ERRORS",
    "EMAIL_TOKEN_TYPES",
    "FALLBACK_TEMPLATE",
    "LINK_ERRORS",
    "OTP_ERRORS",
    "SMS_OTP_TYPES",
    "TEMPLATE_NAME",
    "DeliveryError",
    "DeliveryOutcome",
    "IssuedToken",
    "account_messages_list",
    "account_tokens_retire",
    "email_template_resolve",
    "lr_datetime",
    "message_context",
    "message_deliver",
    "message_enqueue",
    "message_resend",
    "multipurpose_tokens_purge",
    "outbox_relay",
    "phone_verification_send",
    "render_sms",
    "retry_delay",
    "sms_template_resolve",
    "token_consume",
    "token_consumed_record",
    "token_issue",
    "verification_email_send",
]
