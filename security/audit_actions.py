from portal import audit

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
        "login.locked": "The account was locked after consecutive failed sign-ins",
        "login_failures.cleared": "The failed sign-in counter was cleared",
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
    }
)
