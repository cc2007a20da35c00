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
