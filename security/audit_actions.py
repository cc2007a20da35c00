from portal import audit, events

audit.register(
    {
        "mfa_factor.reset": "A second factor of the account was removed",
        "totp.enrolled": "An authenticator app enrollment was started",
        "totp.confirmed": "An authenticator app was confirmed",
        "backup_codes.generated": "Backup codes were generated",
        "backup_codes.reset": "Backup codes were replaced by a new set",
        "otp_factor.enrolled": "An email or SMS second factor was set",
        "otp_factor.confirmed": "An email or SMS second factor's destination was confirmed with a code sent to it",
        "security_answers.updated": "Security question answers were set",
        "security_answers.change_requested": "New security question answers wait for confirmation by a code",
        "reauth_token.issued": "A reauthentication token was issued",
        "passkey.registered": "A passkey was registered",
        "passkey.deleted": "A passkey was removed",
        "push_device.registered": "A device was registered for push approval",
        "push_device.deleted": "A push approval device was removed",
        "backup_codes.removed": "Every backup code of the account was withdrawn",
        "account.secured": "The account was secured after a compromise (sessions, devices, factors, password)",
        "duo.configured": "The tenant's Duo configuration changed",
        "duo.removed": "The tenant's Duo configuration was removed",
        "duo.enrolled": "The account completed a Duo prompt for the first time",
        "push_notifier.configured": "How the tenant's push challenges reach devices changed",
    },
    section="security",
    payloads={
        "mfa_factor.reset": events.payload("factor", "removed", "sessions_revoked"),
        "totp.enrolled": events.payload("confirmed"),
        "totp.confirmed": events.payload("confirmed"),
        "backup_codes.generated": events.payload("backup_code_count"),
        "backup_codes.reset": events.payload("backup_code_count"),
        "otp_factor.enrolled": events.payload(
            "channel", "destination", "confirmed", "pending_destination"
        ),
        "otp_factor.confirmed": events.payload(
            "channel", "destination", "confirmed", "pending_destination"
        ),
        "security_answers.updated": events.payload("questions", "confirmed"),
        "security_answers.change_requested": events.payload("questions", "confirm_by"),
        "reauth_token.issued": events.payload("method"),
        "passkey.registered": events.payload("passkey", "aaguid"),
        "passkey.deleted": events.payload("passkey"),
        "push_device.registered": events.payload("device", "name"),
        "push_device.deleted": events.payload("device", "name"),
        "backup_codes.removed": events.payload("backup_code_count"),
        "account.secured": events.payload(
            "revoke_sessions",
            "remove_passkeys",
            "remove_push_devices",
            "reset_second_factors",
            "require_reset",
            "devices_added_since",
            "sessions_revoked",
            "pending_sign_ins_cancelled",
            "passkeys_removed",
            "push_devices_removed",
            "factors_reset",
            "backup_codes_removed",
        ),
        "duo.configured": events.payload("client_id", "api_host", "enabled", "credential_replaced"),
        "duo.removed": events.payload("client_id", "api_host", "enabled", "open_prompts"),
        "duo.enrolled": events.payload(),
        "push_notifier.configured": events.payload(
            "kind", "project_id", "client_email", "webhook_url", "credential_replaced"
        ),
    },
)

# Guided recovery (security.services.recovery): every event names its case.
audit.register(
    {
        "recovery_case.opened": "A guided recovery of the account was opened",
        "recovery_case.code_sent": "A recovery code was sent to a verified address of the account",
        "recovery_case.check_passed": "A recovery identity check passed",
        "recovery_case.check_failed": "A recovery identity check failed",
        "recovery_case.scheduled": "A recovery change was scheduled after cooling-off; the holder was told",
        "recovery_case.completed": "A recovery case's change was carried out (or sent for approval)",
        "recovery_case.failed": "A recovery case's change was refused when it ran",
        "recovery_case.cancelled": "A recovery case was cancelled",
    },
    section="security",
    payloads={
        "recovery_case.opened": events.payload("case", "purpose", "checks", pairs=False),
        "recovery_case.code_sent": events.payload("case", "channel", pairs=False),
        "recovery_case.check_passed": events.payload("case", "check", pairs=False),
        "recovery_case.check_failed": events.payload("case", "check", pairs=False),
        "recovery_case.scheduled": events.payload("case", "purpose", "due_at", pairs=False),
        "recovery_case.completed": events.payload("case", "purpose", pairs=False),
        "recovery_case.failed": events.payload("case", "error", pairs=False),
        "recovery_case.cancelled": events.payload("case", "by", pairs=False),
    },
)
