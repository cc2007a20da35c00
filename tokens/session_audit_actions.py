from portal import audit, events

# What an opened session's event names.
ISSUED_KEYS = (
    "session",
    "access_expires_at",
    "refresh_expires_at",
    "ip",
    "device",
    "scopes",
    "impersonator",
)

audit.register(
    {
        "session.issued": "Session opened (access and refresh token issued) for the account",
        "session.impersonated": "Session opened on behalf of the account by a staff member or back end",
        "session.refreshed": "Refresh token rotated: a new access/refresh pair issued",
        "session.refresh_repeated": "A just-rotated refresh token presented again within the grace window",
        "session.reuse_detected": "A rotated refresh token was reused: the whole session was revoked",
        "session.revoked": "Session revoked through its refresh token",
        "session.revoked_by_id": "One session of the account revoked by its id",
        "session.all_revoked": "Every session of the account revoked",
        "session.invalidated": "Access token invalidated",
        "session.elevated": "Access token elevated by a reauthentication made with it (security changes allowed for a few minutes)",
        "session.slid": "Access token exchanged for a fresh pair of the same session (sliding token)",
    },
    section="sessions",
    payloads={
        "session.issued": events.payload(*ISSUED_KEYS),
        "session.impersonated": events.payload(*ISSUED_KEYS),
        "session.refreshed": events.payload("session", "access_expires_at", "refresh_expires_at"),
        "session.refresh_repeated": events.payload("session"),
        "session.reuse_detected": events.payload("session", "revoked_tokens"),
        "session.revoked": events.payload("session", "revoked_tokens"),
        "session.revoked_by_id": events.payload("session", "revoked_tokens"),
        "session.all_revoked": events.payload("sessions", "revoked_tokens"),
        "session.invalidated": events.payload("session", "prevent_refresh", "revoked_tokens"),
        "session.elevated": events.payload("session", "method", "elevated_until"),
        "session.slid": events.payload("session", "access_expires_at", "refresh_expires_at"),
    },
)
