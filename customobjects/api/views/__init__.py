"""Custom object endpoints of the LoginRadius paths (an account's records, management and
access-token). The native API's are customobjects/api/native_types.py and
native_records.py."""

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

__all__ = [
    "ACCESS_TOKEN",
    "CUSTOM_OBJECT_ID",
    "IF_MATCH",
    "OBJECT_NAME",
    "RECORD_BODY",
    "UPDATE_TYPE",
    "AccountCustomObjectDetailView",
    "AccountCustomObjectListView",
    "CustomObjectBaseView",
    "Q",
    "TokenCustomObjectDetailView",
    "TokenCustomObjectListView",
]
