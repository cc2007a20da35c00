from portal import audit, events

audit.register(
    {
        "approval.requested": "Action sent for a second person's approval",
        "approval.approved": "Approval request approved: its action ran",
        "approval.failed": "Approved action refused when it ran",
        "approval.denied": "Approval request denied",
        "approval.cancelled": "Approval request withdrawn by the requester",
        "approval.expired": "Approval request expired undecided",
        "approval.result_collected": "The requester collected what the approved action produced",
    },
    section="accounts",
    payloads={
        "approval.requested": events.payload(
            "request", "gate", "command_type", "summary", "expires_at", pairs=False
        ),
        "approval.approved": events.payload("request", "gate", "requested_by", "note", pairs=False),
        "approval.failed": events.payload("request", "gate", "error", "detail", pairs=False),
        "approval.denied": events.payload("request", "gate", "requested_by", "note", pairs=False),
        "approval.cancelled": events.payload("request", "gate", "note", pairs=False),
        "approval.expired": events.payload("request", "gate", pairs=False),
        "approval.result_collected": events.payload("request", "gate", pairs=False),
    },
)
