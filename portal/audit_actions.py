from portal import audit, events

audit.register(
    {
        "tenant.created": "Tenant created",
        "tenant.updated": "Tenant settings changed",
        "credential.created": "API secret created",
        "credential.revoked": "API secret revoked",
        "credential.expiry_changed": "API secret expiry changed",
        "staff_access.granted": "Staff access to a tenant granted",
        "staff_access.revoked": "Staff access to a tenant revoked",
    },
    section="admin",
    payloads={
        "tenant.created": events.payload("name"),
        # The tenant's settings, by name (portal.models.Tenant.setting).
        "tenant.updated": events.payload(open=True),
        "credential.created": events.payload(
            "credential", "label", "scopes", "replaces", "requires_approval", "masks_personal_data"
        ),
        "credential.revoked": events.payload("credential", "replaced_by"),
        "credential.expiry_changed": events.payload("credential", "replaced_by", "expires_at"),
        "staff_access.granted": events.payload("user", "permissions"),
        "staff_access.revoked": events.payload("user", "permissions"),
    },
)

# manage.py encryption_keys_rotate: one event per batch, naming the column and the count.
audit.register(
    {"encryption_key.rotated": "Stored secrets re-encrypted under the newest key"},
    section="admin",
    payloads={"encryption_key.rotated": events.payload("column", "reencrypted", pairs=False)},
)

# Reason presets staff pick from when acting on an account (portal/reason_presets.py).
audit.register(
    {
        "reason_preset.created": "Reason preset added",
        "reason_preset.updated": "Reason preset changed",
        "reason_preset.deleted": "Reason preset removed",
    },
    section="admin",
    payloads={
        name: events.payload("label", "text", values=("preset",))
        for name in ("reason_preset.created", "reason_preset.updated", "reason_preset.deleted")
    },
)

# Time-boxed access to some accounts (portal/access_grants.py).
audit.register(
    {
        "access_grant.created": "Time-boxed access to accounts granted",
        "access_grant.break_glass": "Break-glass access taken",
        "access_grant.revoked": "Time-boxed access ended early",
    },
    section="admin",
    payloads={
        "access_grant.created": events.payload(
            "grant", "user", "uids", "scope", "ends_at", pairs=False
        ),
        "access_grant.break_glass": events.payload(
            "grant", "user", "uids", "scope", "ends_at", pairs=False
        ),
        "access_grant.revoked": events.payload("grant", "user", pairs=False),
    },
)

# A staff member revealing an account's masked personal data (portal/personal_data.py).
audit.register(
    {"account.personal_data_revealed": "Personal data revealed to staff"},
    section="admin",
    payloads={"account.personal_data_revealed": events.payload("fields", pairs=False)},
)
