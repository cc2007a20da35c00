"""Custom object endpoints, one module per resource: the LoginRadius paths (an account's
records, management and access-token) and the native API (`/api/v1/customobject-types`,
`/api/v1/customobjects/{name}/records`)."""

from customobjects.api.views.account_records import (
    AccountCustomObjectDetailView,
    AccountCustomObjectListView,
    TokenCustomObjectDetailView,
    TokenCustomObjectListView,
)
from customobjects.api.views.common import (
    ACCESS_TOKEN,
    CUSTOM_OBJECT_ID,
    IF_MATCH,
    OBJECT_NAME,
    RECORD_BODY,
    UPDATE_TYPE,
    CustomObjectBaseView,
    Q,
)
from customobjects.api.views.object_types import (
    CustomObjectTypeDetailView,
    CustomObjectTypeListView,
)
from customobjects.api.views.records import (
    MAX_FILTER_CHARS,
    CustomObjectRecordDetailView,
    CustomObjectRecordQueryView,
)

__all__ = [
    "ACCESS_TOKEN",
    "CUSTOM_OBJECT_ID",
    "IF_MATCH",
    "MAX_FILTER_CHARS",
    "OBJECT_NAME",
    "RECORD_BODY",
    "UPDATE_TYPE",
    "AccountCustomObjectDetailView",
    "AccountCustomObjectListView",
    "CustomObjectBaseView",
    "CustomObjectRecordDetailView",
    "CustomObjectRecordQueryView",
    "CustomObjectTypeDetailView",
    "CustomObjectTypeListView",
    "Q",
    "TokenCustomObjectDetailView",
    "TokenCustomObjectListView",
]
