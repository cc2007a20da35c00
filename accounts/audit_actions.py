"""Audit actions written by the accounts app."""

from portal import audit

audit.register(
    {
        "account.created": "Account created",
        "account.updated": "Account profile updated",
        "account.blocked": "Account blocked",
        "account.unblocked": "Account unblocked",
        "account.locked": "Account login locked",
        "account.unlocked": "Account login unlocked",
        "account.deleted": "Account deleted (tombstone: UID only)",
        "account.imported": "Accounts imported in bulk (one event per batch, counts only)",
        "account.exported": "Accounts exported in bulk (counts only)",
        "account.uid_changed": "Account UID changed",
        "account.login_recorded": "Account sign-in counted",
        "account_email.upserted": "Account emails added or changed",
        "account_email.removed": "Account email removed",
        "account_email.made_primary": "Account email made the primary email",
        "account_email.verified": "Account email marked verified",
        "account_email.verification_invalidated": "Account email verification invalidated",
        "account_phone.updated": "Account phone id changed",
        "account_phone.verified": "Account phone id marked verified",
        "account_phone.verification_invalidated": "Account phone verification invalidated",
        "account_password.set": "Account password set",
        "account_password.change_required": "A new password is required before the next password sign-in",
        "account_identity.linked": "Provider identity linked to the account",
        "account_identity.unlinked": "Provider identity unlinked from the account",
    }
)
