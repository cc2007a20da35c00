from portal import audit

audit.register(
    {
        "mfa_factor.reset": "A second factor of the account was removed",
        "totp.enrolled": "An authenticator app enrollment was started",
        "totp.confirmed": "An authenticator app was confirmed",
        "backup_codes.generated": "Backup codes were generated",
        "backup_codes.reset": "Backup codes were replaced by a new set",
        "otp_factor.enrolled": "An email or SMS second factor was set",
        "security_answers.updated": "Security question answers were set",
        "login.locked": "The account was locked after consecutive failed sign-ins",
        "login_failures.cleared": "The failed sign-in counter was cleared",
        "reauth_token.issued": "A reauthentication token was issued",
        "passkey.registered": "A passkey was registered",
        "passkey.deleted": "A passkey was removed",
        "push_device.registered": "A device was registered for push approval",
        "duo.configured": "The tenant's Duo configuration changed",
        "duo.removed": "The tenant's Duo configuration was removed",
        "duo.enrolled": "The account completed a Duo prompt for the first time",
    }
)
