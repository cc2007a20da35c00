"""Sign-in attempts as domain events, so support can answer "why can't I sign in?" from the
event feed: `signin.succeeded` (recorded by flows.signin) and `signin.failed` (recorded by
security.services.signin_events, outside any transaction a refusal rolls back)."""

from portal import audit, events

audit.register(
    {
        "signin.succeeded": "A sign-in succeeded and its session opened",
        "signin.failed": "A sign-in was refused",
    },
    section="security",
    payloads={
        # method: password, passkey, otp, ...; reason (failures): wrong_password, locked,
        # blocked, unknown_account, password_change_required. IP and device are the
        # event's own request context.
        "signin.succeeded": events.payload("method", pairs=False),
        "signin.failed": events.payload("method", "reason", pairs=False),
    },
)
