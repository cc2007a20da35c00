"""Per-request facts (request id, client IP, user agent, host) that audit rows and logs carry."""

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""
    host: str = ""  # the host the caller's user was on (consent logs show it)
    # The caller asked that its changes send no webhooks (LoginRadius's `prevent_webhook`
    # query parameter or `X-PreventWebhook: true` header); the events record it.
    webhooks_suppressed: bool = False


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "portal_request_context",
    default=RequestContext(),  # noqa: B039 - frozen dataclass
)


def current() -> RequestContext:
    return _current.get()


def activate(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def deactivate(token: contextvars.Token) -> None:
    _current.reset(token)
