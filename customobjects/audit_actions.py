from portal import audit

audit.register(
    {
        "customobject_type.created": "A custom object type was configured",
        "customobject_type.updated": "A custom object type's schema, name or limits changed",
        "customobject_type.deleted": "A custom object type was removed",
        "customobject.created": "A custom object record was created for an account",
        "customobject.updated": "A custom object record of an account was changed",
        "customobject.deleted": "A custom object record of an account was deleted",
    }
)
