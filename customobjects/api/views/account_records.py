"""An account's custom-object records on the LoginRadius wire: by UID (manage) and the
account's own (access token)."""

from drf_spectacular.utils import extend_schema

from accounts.selectors import account_get
from customobjects import selectors, services
from customobjects.api import serializers as s
from customobjects.api.views.common import (
    ACCESS_TOKEN,
    CUSTOM_OBJECT_ID,
    IF_MATCH,
    OBJECT_NAME,
    RECORD_BODY,
    UPDATE_TYPE,
    CustomObjectBaseView,
)
from customobjects.commands import (
    RecordCreate,
    RecordDelete,
    RecordUpdate,
)

# -- LoginRadius: /identity/v2/manage/account/{uid}/customobject[/{id}] -------------------


class AccountCustomObjectListView(CustomObjectBaseView):
    """Records of one object type held by an account; create one."""

    def target_account(self, uid: str | None):
        return account_get(tenant=self.tenant, uid=uid)

    @extend_schema(
        operation_id="getCustomObjectByUid",
        parameters=[OBJECT_NAME],
        responses=s.RecordListSerializer,
        tags=["Account Custom Object"],
    )
    def get(self, request, uid: str | None = None):
        object_type = self.object_type()
        account = self.target_account(uid)
        records = selectors.record_list_for_account(object_type=object_type, account=account)
        return self.respond({"data": [s.record_json(r) for r in records], "Count": len(records)})

    @extend_schema(
        operation_id="createCustomObject",
        parameters=[OBJECT_NAME, CUSTOM_OBJECT_ID],
        request=RECORD_BODY,
        responses=s.RecordSerializer,
        tags=["Account Custom Object"],
    )
    def post(self, request, uid: str | None = None):
        object_type = self.object_type()
        account = self.target_account(uid)
        data = self.record_body(object_type)
        record = services.record_create(
            RecordCreate(data=data, record_id=self.query.get("customobjectid") or None),
            tenant=self.tenant,
            actor=self.actor,
            object_type=object_type,
            account=account,
        )
        return self.respond(s.record_json(record))


class AccountCustomObjectDetailView(CustomObjectBaseView):
    """One record of an account: read, update (replace / partialreplace), delete."""

    def target_uid(self, uid: str | None) -> str | None:
        return uid

    def record(self, uid, objectrecordid):
        return selectors.record_get(
            tenant=self.tenant,
            object_name=self.query.get("objectname"),
            uid=self.target_uid(uid),
            record_id=objectrecordid,
        )

    @extend_schema(
        operation_id="getCustomObjectByUidAndRecordId",
        parameters=[OBJECT_NAME],
        responses=s.RecordSerializer,
        tags=["Account Custom Object"],
    )
    def get(self, request, objectrecordid: str, uid: str | None = None):
        record = self.record(uid, objectrecordid)
        response = self.respond(s.record_json(record))
        response["ETag"] = record.etag
        return response

    @extend_schema(
        operation_id="updateCustomObjectByUidAndRecordId",
        parameters=[OBJECT_NAME, UPDATE_TYPE, IF_MATCH],
        request=RECORD_BODY,
        responses=s.RecordSerializer,
        tags=["Account Custom Object"],
    )
    def put(self, request, objectrecordid: str, uid: str | None = None):
        update_type = self.update_type()
        record = self.record(uid, objectrecordid)
        data = self.record_body(record.object_type)
        record = services.record_update(
            RecordUpdate(
                data=data, update_type=update_type, if_match=request.headers.get("If-Match")
            ),
            tenant=self.tenant,
            actor=self.actor,
            record=record,
        )
        response = self.respond(s.record_json(record))
        response["ETag"] = record.etag
        return response

    @extend_schema(
        operation_id="deleteCustomObjectByUidAndRecordId",
        parameters=[OBJECT_NAME, IF_MATCH],
        request=None,
        responses=s.DeletedSerializer,
        tags=["Account Custom Object"],
    )
    def delete(self, request, objectrecordid: str, uid: str | None = None):
        record = self.record(uid, objectrecordid)
        services.record_delete(
            RecordDelete(if_match=request.headers.get("If-Match")),
            tenant=self.tenant,
            actor=self.actor,
            record=record,
        )
        return self.respond({"IsDeleted": True})


# -- LoginRadius: /identity/v2/auth/customobject[/{id}] (the account's own records) ------


class TokenCustomObjectListView(AccountCustomObjectListView):
    auth_mode = "access_token"

    def target_account(self, uid):
        return self.account

    @extend_schema(
        operation_id="getCustomObjectByToken",
        parameters=[OBJECT_NAME, ACCESS_TOKEN],
        responses=s.RecordListSerializer,
        tags=["Custom Object"],
    )
    def get(self, request, uid=None):
        return super().get(request)

    @extend_schema(
        operation_id="createCustomObjectByToken",
        parameters=[OBJECT_NAME, ACCESS_TOKEN, CUSTOM_OBJECT_ID],
        request=RECORD_BODY,
        responses=s.RecordSerializer,
        tags=["Custom Object"],
    )
    def post(self, request, uid=None):
        return super().post(request)


class TokenCustomObjectDetailView(AccountCustomObjectDetailView):
    auth_mode = "access_token"

    def target_uid(self, uid):
        return self.account.uid

    @extend_schema(
        operation_id="getCustomObjectByTokenAndRecordId",
        parameters=[OBJECT_NAME, ACCESS_TOKEN],
        responses=s.RecordSerializer,
        tags=["Custom Object"],
    )
    def get(self, request, objectrecordid: str, uid=None):
        return super().get(request, objectrecordid)

    @extend_schema(
        operation_id="updateCustomObjectByTokenAndRecordId",
        parameters=[OBJECT_NAME, ACCESS_TOKEN, UPDATE_TYPE, IF_MATCH],
        request=RECORD_BODY,
        responses=s.RecordSerializer,
        tags=["Custom Object"],
    )
    def put(self, request, objectrecordid: str, uid=None):
        return super().put(request, objectrecordid)

    @extend_schema(
        operation_id="deleteCustomObjectByTokenAndRecordId",
        parameters=[OBJECT_NAME, ACCESS_TOKEN, IF_MATCH],
        request=None,
        responses=s.DeletedSerializer,
        tags=["Custom Object"],
    )
    def delete(self, request, objectrecordid: str, uid=None):
        return super().delete(request, objectrecordid)
