from portal import audit

audit.register(
    {
        "tenant.created": "Tenant created",
        "tenant.updated": "Tenant settings changed",
        "credential.created": "API secret created",
        "credential.revoked": "API secret revoked",
        "credential.expiry_changed": "API secret expiry changed",
        "staff_access.granted": "Staff access to a tenant granted",
        "staff_access.revoked": "Staff access to a tenant revoked",
    }
)
