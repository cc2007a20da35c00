from customobjects.api import native_records, native_types, views
from portal.lrapi.routing import lr_path

app_name = "customobjects"

urlpatterns = [
    lr_path(
        "identity/v2/manage/account/<str:uid>/customobject",
        views.AccountCustomObjectListView.as_view(),
        name="account_customobject_list",
    ),
    lr_path(
        "identity/v2/manage/account/<str:uid>/customobject/<str:objectrecordid>",
        views.AccountCustomObjectDetailView.as_view(),
        name="account_customobject_detail",
    ),
    lr_path(
        "identity/v2/auth/customobject",
        views.TokenCustomObjectListView.as_view(),
        name="token_customobject_list",
    ),
    lr_path(
        "identity/v2/auth/customobject/<str:objectrecordid>",
        views.TokenCustomObjectDetailView.as_view(),
        name="token_customobject_detail",
    ),
    lr_path(
        "api/v1/customobject-types",
        native_types.NativeCustomObjectTypeListView.as_view(),
        name="customobjecttype_list",
    ),
    lr_path(
        "api/v1/customobject-types/<str:name>",
        native_types.NativeCustomObjectTypeDetailView.as_view(),
        name="customobjecttype_detail",
    ),
    lr_path(
        "api/v1/customobjects/<str:objectname>/records",
        native_records.NativeCustomObjectRecordListView.as_view(),
        name="customobjectrecord_list",
    ),
    lr_path(
        "api/v1/customobjects/<str:objectname>/records/<str:record_id>",
        native_records.NativeCustomObjectRecordDetailView.as_view(),
        name="customobjectrecord_detail",
    ),
]
