from portal import audit, events

audit.register(
    {
        "job.created": "Bulk job created (its rows record their own events)",
        "job.cancelled": "Bulk job cancelled: its remaining rows do not run",
        "job.finished": "Bulk job finished",
    },
    section="accounts",
    payloads={
        "job.created": events.payload(
            "job", "action", "params", "total", "dry_run", "reverts", pairs=False
        ),
        "job.cancelled": events.payload("job", "action", "processed", pairs=False),
        "job.finished": events.payload(
            "job", "action", "status", "succeeded", "failed", "skipped", pairs=False
        ),
    },
)
