from portal import audit, events

# A type's audited fields (customobjects.services.TYPE_FIELDS) and a record's event keys.
TYPE_KEYS = ("name", "schema", "max_bytes", "max_depth", "max_records_per_account")
RECORD_KEYS = ("ObjectName", "Id", "CustomObject")

audit.register(
    {
        "customobject_type.created": "A custom object type was configured",
        "customobject_type.updated": "A custom object type's schema, name or limits changed",
        "customobject_type.deleted": "A custom object type was removed",
        "customobject.created": "A custom object record was created for an account",
        "customobject.updated": "A custom object record of an account was changed",
        "customobject.deleted": "A custom object record of an account was deleted",
    },
    section="customobjects",
    payloads={
        "customobject_type.created": events.payload(*TYPE_KEYS),
        "customobject_type.updated": events.payload(*TYPE_KEYS),
        "customobject_type.deleted": events.payload(*TYPE_KEYS, values=("records_deleted",)),
        # The record's own keys are the tenant's: `CustomObject` holds their diff.
        "customobject.created": events.payload(values=RECORD_KEYS),
        "customobject.updated": events.payload(values=(*RECORD_KEYS, "UpdateType")),
        "customobject.deleted": events.payload(values=RECORD_KEYS),
    },
)
