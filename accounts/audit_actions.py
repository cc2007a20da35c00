"""Audit actions written by the accounts app."""

from portal import audit, events

# The keys of the audited account snapshot (accounts.services.snapshot).
SNAPSHOT_KEYS = (
    "Uid",
    "UserName",
    "PhoneId",
    "PhoneIdVerified",
    "EmailVerified",
    "Email",
    "FirstName",
    "MiddleName",
    "LastName",
    "IsActive",
    "IsLoginLocked",
    "LoginLockedType",
    "IsEmailSubscribed",
    "CustomFields",
    "RegistrationSource",
)

audit.register(
    {
        "account.created": "Account created",
        "account.updated": "Account profile updated",
        "account.blocked": "Account blocked",
        "account.unblocked": "Account unblocked",
        "account.locked": "Account login locked",
        "account.unlocked": "Account login unlocked",
        "account.deleted": "Account deleted (tombstone: UID only)",
        "account.imported": "Accounts imported in bulk (counts per batch; each account's own imported account.created points to it)",
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
    },
    section="accounts",
    payloads={
        # Profile diffs: the audited snapshot's keys, and the profile fields a tenant adds.
        "account.created": events.payload(*SNAPSHOT_KEYS, "Roles", open=True),
        "account.updated": events.payload(*SNAPSHOT_KEYS, open=True),
        "account.blocked": events.payload("IsActive"),
        "account.unblocked": events.payload("IsActive"),
        "account.locked": events.payload("IsLoginLocked", "LoginLockedType", "LoginLockedUntil"),
        "account.unlocked": events.payload("IsLoginLocked", "LoginLockedType", "LoginLockedUntil"),
        "account.deleted": events.payload(),
        "account.imported": events.payload(
            "imported", "rejected", "first_line", "last_line", "source", pairs=False
        ),
        "account.exported": events.payload("exported", pairs=False),
        "account.uid_changed": events.payload("Uid"),
        "account.login_recorded": events.payload("NoOfLogins", "LastLoginIP"),
        "account_email.upserted": events.payload("Email"),
        "account_email.removed": events.payload("Email"),
        "account_email.made_primary": events.payload("Email"),
        "account_email.verified": events.payload("EmailVerified", "Email"),
        "account_email.verification_invalidated": events.payload("EmailVerified", "Email"),
        "account_phone.updated": events.payload("PhoneId"),
        "account_phone.verified": events.payload("PhoneIdVerified", "PhoneId"),
        "account_phone.verification_invalidated": events.payload("PhoneIdVerified", "PhoneId"),
        "account_password.set": events.payload("HasPassword", "ResetRequired"),
        "account_password.change_required": events.payload("ResetRequired"),
        "account_identity.linked": events.payload("Identity"),
        "account_identity.unlinked": events.payload("Identity"),
    },
)
