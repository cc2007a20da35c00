"""One account's profile: create, find (by email, username, phone or q), read, update,
delete (by UID or by email), and the v11 UID change."""

from drf_spectacular.utils import extend_schema

from accounts import selectors, services
from accounts.api import profile_body
from accounts.api import schema as s
from accounts.api.views.common import TAG, UID, AccountsView
from accounts.commands import (
    AccountDelete,
    AccountsDeleteByEmail,
    UidChange,
)
from accounts.selectors import account_get, account_profile
from portal.lrapi.errors import required


class AccountCollectionView(AccountsView):
    """POST create; GET by email / username / phone / q; DELETE by email."""

    @extend_schema(
        tags=TAG,
        operation_id="createUser",
        summary="Create an account (no verification flow)",
        parameters=[s.FIELDS],
        request=s.PROFILE_BODY,
        responses=s.PROFILE,
    )
    def post(self, request):
        body = self.body()
        command = profile_body.account_create_read(body)
        account = self.profile_write(
            lambda: services.account_create(command, tenant=self.tenant, actor=self.actor), body
        )
        return self.profile(account)

    @extend_schema(
        tags=TAG,
        operation_id="getAccountIdentity",
        summary="Find an account by email, username, phone or q",
        parameters=[
            s.query("email", "Email of the account."),
            s.query("username", "Username (the v11 Python SDK sends userName)."),
            s.query("phone", "Phone id (E.164)."),
            s.query("q", "v12: key:value on email, username, phone, uid or id."),
            s.FIELDS,
        ],
        responses=s.PROFILE,
    )
    def get(self, request):
        q = self.query
        if q.get("email") is not None:
            account = selectors.account_get_by_email(
                tenant=self.tenant, email=q.get_plus_preserving("email"), for_profile=True
            )
        elif q.get("username") is not None:
            account = selectors.account_get_by_username(
                tenant=self.tenant, username=q.get("username"), for_profile=True
            )
        elif q.get("phone") is not None:
            account = selectors.account_get_by_phone(
                tenant=self.tenant, phone=q.get_plus_preserving("phone"), for_profile=True
            )
        elif q.get("q") is not None:
            account = selectors.account_get_by_query(
                tenant=self.tenant, q=q.get("q"), for_profile=True
            )
        else:
            raise required("email")
        return self.respond(account_profile(account=account))

    @extend_schema(
        tags=TAG,
        operation_id="deleteAccountByEmail",
        summary="Delete every account using an email",
        parameters=[s.query("email", "Email of the account(s).", required=True)],
        request=None,
        responses=s.IS_DELETED,
    )
    def delete(self, request):
        command = AccountsDeleteByEmail(email=self.query.get_plus_preserving("email") or "")
        count = services.accounts_delete_by_email(command, tenant=self.tenant, actor=self.actor)
        return self.respond({"IsDeleted": True, "RecordsDeleted": count})


class AccountDetailView(AccountsView):
    """GET, PUT (partial update) and DELETE of one account by UID."""

    @extend_schema(
        tags=TAG,
        operation_id="getAccountIdentityByUID",
        summary="Get an account by UID",
        parameters=[UID, s.FIELDS],
        responses=s.PROFILE,
    )
    def get(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid, for_profile=True)
        return self.respond(account_profile(account=account))

    @extend_schema(
        tags=TAG,
        operation_id="updateAccountProfileByUID",
        summary="Update an account",
        parameters=[UID, s.FIELDS, s.NULL_SUPPORT],
        request=s.PROFILE_BODY,
        responses=s.PROFILE,
    )
    def put(self, request, uid):
        body = self.body()
        account = account_get(tenant=self.tenant, uid=uid, for_profile=True)
        command = profile_body.account_changes_read(
            body,
            null_support=self.null_support(),
            strict_keys=bool(self.tenant.setting("profile_update_strict_keys")),
            current=account_profile(account=account),
        )
        account = self.profile_write(
            lambda: services.account_update(
                command, tenant=self.tenant, actor=self.actor, account=account
            ),
            body,
        )
        return self.profile(account)

    @extend_schema(
        tags=TAG,
        operation_id="deleteAccountByUID",
        summary="Delete an account",
        parameters=[UID],
        request=None,
        responses=s.IS_DELETED,
    )
    def delete(self, request, uid):
        services.account_delete(
            AccountDelete(), tenant=self.tenant, actor=self.actor, account=self.account(uid)
        )
        return self.respond({"IsDeleted": True, "RecordsDeleted": 1})


class AccountUidUpdateView(AccountDetailView):
    """v11 `PUT /identity/v2/manage/account/uid?uid=old` with `{"newUid"}`. Any other call on
    this path is the account whose UID is literally "uid"."""

    @extend_schema(tags=TAG, operation_id="getAccountIdentityByLiteralUid", exclude=True)
    def get(self, request):
        return super().get(request, uid="uid")

    @extend_schema(
        tags=TAG,
        operation_id="accountUpdateUid",
        summary="Change an account's UID (v11)",
        parameters=[s.query("uid", "The current UID.", required=True)],
        request=s.NEW_UID_BODY,
        responses=s.IS_POSTED,
    )
    def put(self, request):
        body = self.body()
        if "newuid" not in body:
            return super().put(request, uid="uid")
        account = self.account(self.query.get("uid"))
        command = UidChange(new_uid=profile_body.uid_text(body.get("newUid")))
        services.account_uid_update(command, tenant=self.tenant, actor=self.actor, account=account)
        return self.respond({"IsPosted": True}, project=False)

    @extend_schema(tags=TAG, operation_id="deleteAccountByLiteralUid", exclude=True)
    def delete(self, request):
        return super().delete(request, uid="uid")
