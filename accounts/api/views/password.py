"""An account's password: the stored hash, and setting a new one."""

from drf_spectacular.utils import extend_schema

from accounts import services
from accounts.api import profile_body
from accounts.api import schema as s
from accounts.api.views.common import TAG, UID, AccountsView
from accounts.commands import (
    PasswordSet,
)


class AccountPasswordView(AccountsView):
    @extend_schema(
        tags=TAG,
        operation_id="getProfilePassword",
        summary="The stored password hash",
        parameters=[UID],
        responses=s.PASSWORD_HASH,
    )
    def get(self, request, uid):
        account = self.account(uid)
        return self.respond({"PasswordHash": account.password or None}, project=False)

    @extend_schema(
        tags=TAG,
        operation_id="setProfilePassword",
        summary="Set a new password",
        parameters=[UID],
        request=s.PASSWORD_BODY,
        responses=s.PASSWORD_HASH,
    )
    def put(self, request, uid):
        account = self.account(uid)
        command = PasswordSet(password=profile_body.password_text(self.body().get("password")))
        account = services.account_password_set(
            command, tenant=self.tenant, actor=self.actor, account=account
        )
        return self.respond({"PasswordHash": account.password}, project=False)
