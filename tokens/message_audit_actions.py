from portal import audit, events

audit.register(
    {
        "multipurpose_token.issued": "A multipurpose email token or SMS OTP was issued",
        "multipurpose_token.consumed": "A multipurpose email token or SMS OTP was used",
        "message.resent": "An outbox message that was sent or failed was sent again",
    },
    section="tokens",
    payloads={
        "multipurpose_token.issued": events.payload(
            "kind", "purpose", "destination", "sent", "expires_at", pairs=False
        ),
        "multipurpose_token.consumed": events.payload(
            "kind", "purpose", "destination", pairs=False
        ),
        # A token's message is reached again with a fresh token (`reissued`, its `purpose`);
        # another goes back to the queue (`status`, `attempts`).
        "message.resent": events.payload(
            "status",
            "attempts",
            values=("message", "channel", "template", "purpose", "reissued"),
        ),
    },
)
