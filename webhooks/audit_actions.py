from portal import audit, events

# What an endpoint's events carry: never its secret.
ENDPOINT_KEYS = ("url", "events", "description", "enabled", "format")

audit.register(
    {
        "webhook.created": "A webhook endpoint was registered",
        "webhook.updated": "A webhook endpoint's address, events, format or state changed",
        "webhook.deleted": "A webhook endpoint was removed",
        "webhook.secret_rotated": "A webhook endpoint's signing secret was replaced",
        "webhook.disabled": "A webhook endpoint that kept failing was switched off",
        "webhook.replayed": "Events were queued again for a webhook endpoint",
    },
    section="admin",
    payloads={
        "webhook.created": events.payload(*ENDPOINT_KEYS, values=("webhook",)),
        "webhook.updated": events.payload(*ENDPOINT_KEYS, values=("webhook",)),
        "webhook.deleted": events.payload(*ENDPOINT_KEYS, values=("webhook",)),
        "webhook.secret_rotated": events.payload(values=("webhook",)),
        "webhook.disabled": events.payload(
            "enabled", values=("webhook", "consecutive_failures", "failing_since")
        ),
        "webhook.replayed": events.payload(values=("webhook", "count")),
    },
)
