from customobjects.api import views
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
        views.CustomObjectTypeListView.as_view(),
        name="customobjecttype_list",
    ),
    lr_path(
        "api/v1/customobject-types/<str:name>",
        views.CustomObjectTypeDetailView.as_view(),
        name="customobjecttype_detail",
    ),
    lr_path(
        "api/v1/customobjects/<str:objectname>/records",
        views.CustomObjectRecordQueryView.as_view(),
        name="customobjectrecord_list",
    ),
    lr_path(
        "api/v1/customobjects/<str:objectname>/records/<str:record_id>",
        views.CustomObjectRecordDetailView.as_view(),
        name="customobjectrecord_detail",
    ),
]
