"""The account seen from its own access token (LoginRadius Authentication API): read and
update the profile, ask for its deletion, add and remove emails, change the password with
the old one; and the two token-side calls this server does not serve, answered with why.

What a token may do is the security model's (portal/security_model.py): the route's rule is
checked before the handler runs. A profile update is ordinary profile data, but the fields
that identify or protect the account are not: an Email, PhoneId, Password or
SecurityQuestionAnswer sent back as stored is ignored; a changed one (or a new PIN) needs the
rule the model gives that field (security_model.PROFILE_FIELD_RULES), asked here."""

import dataclasses
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from accounts import services
from accounts.api import profile_body
from accounts.api import schema as s
from accounts.api.views.common import AccountsView
from accounts.commands import AccountChanges, EmailRemove, EmailUpsert, PasswordChange, PasswordSet
from accounts.selectors import account_email_rows, account_get, account_profile
from accounts.services.self_service import account_password_change
from portal import ratelimit, security_model
from portal.lrapi.errors import LRError, required
from portal.lrapi.params import CIBody
from portal.lrapi.projection import apply_fields
from security.services import security_answers_verify
from tokens.api.multipurpose.token_use_views import EmailVerifyByTokenView
from tokens.commands import TokenIssue, VerificationEmailSend
from tokens.models import MultipurposeToken
from tokens.selectors import access_token_elevated_until
from tokens.services.multipurpose import token_issue, verification_email_send

TAG = ["Authentication"]
FIELD_RULES = security_model.PROFILE_FIELD_RULES
TOKEN = s.query("access_token", "Access token (or Authorization: Bearer).")

# Profile keys only a back end sets: a token-side update ignores them, as the manage parser
# ignores the read-only keys of a profile sent back.
BACK_END_ONLY = (
    "Uid",
    "EmailVerified",
    "PhoneIdVerified",
    "IsActive",
    "IsLoginLocked",
    "IsDeleted",
    "SessionLimit",
    "RegistrationSource",
    "RegistrationProvider",
)

NOT_SERVED_UNLOCK = (
    "Unlocking an account by a bot-protection challenge is not served: this server has no "
    "captcha provider. A locked account is unlocked by staff or a back end "
    "(PUT /identity/v2/manage/account/{uid} with IsLoginLocked: false), or when its lock expires."
)
NOT_SERVED_LINK = (
    "Linking a social identity by candidate token is not served: this server hosts no social "
    "login, so it issues no candidate tokens. A back end links an identity with "
    "POST /api/v1/accounts/{uid}/identities."
)

_PUT_ANSWER = inline_serializer(
    "TokenProfileUpdated",
    {"IsPosted": serializers.BooleanField(), "Data": serializers.DictField()},
)
_DELETE_REQUESTED = inline_serializer(
    "DeleteRequestAccepted", {"IsDeleteRequestAccepted": serializers.BooleanField()}
)


def _without(raw: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    lowered = {name.lower() for name in names}
    return {k: v for k, v in raw.items() if str(k).lower() not in lowered}


def _last(raw: dict[str, Any], name: str) -> tuple[bool, Any]:
    """Whether the body names `name` (any case) and its value; the last spelling wins, as
    in the profile parser."""
    found, value = False, None
    for key, item in raw.items():
        if str(key).lower() == name.lower():
            found, value = True, item
    return found, value


def not_served(description: str) -> LRError:
    return LRError(
        405, description, message="This operation is not served by this server", status=405
    )


class TokenSideView(AccountsView):
    """An Authentication API view on the token's own account."""

    auth_mode = "access_token"

    def require(self, rule: security_model.TokenRule) -> None:
        """Refuse (1143, saying why) unless this request's token may also do what `rule`
        covers: a change the route's own rule does not cover."""
        token = self.access_token
        security_model.authorize_token(
            rule=rule,
            token=token,
            section=self.section,
            elevated_until=lambda: access_token_elevated_until(resolved=token),
        )

    def unchanged_or_require(self, rule: security_model.TokenRule, same) -> bool:
        """True when `same()` finds a secret sent back as stored (to be ignored); otherwise
        the change needs `rule`. An impersonation token is refused before any comparison."""
        if self.access_token.is_impersonation:
            self.require(rule)
        if same():
            return True
        self.require(rule)
        return False


class TokenAccountView(TokenSideView):
    """GET, PUT and DELETE /identity/v2/auth/account."""

    @extend_schema(
        tags=TAG,
        operation_id="getProfileByAccessToken",
        summary="The profile of the token's account",
        parameters=[TOKEN, s.FIELDS],
        responses=s.PROFILE,
    )
    def get(self, request):
        return self.profile(self.account)

    @extend_schema(
        tags=TAG,
        operation_id="updateProfileByAccessToken",
        summary="Update the profile of the token's account",
        parameters=[TOKEN, s.FIELDS, s.NULL_SUPPORT],
        request=s.PROFILE_BODY,
        responses=_PUT_ANSWER,
    )
    def put(self, request):
        account = account_get(tenant=self.tenant, uid=self.account.uid)
        raw = _without(self.body().raw(), BACK_END_ONLY)
        has_password, password = _last(raw, "Password")
        raw = _without(raw, ("Password",))
        # The body is read (and refused) first, exactly as the manage update reads it.
        command = profile_body.account_changes_read(raw, null_support=self.null_support())
        answers = profile_body.security_answers(raw)
        if has_password and password is not None:
            password = profile_body.password_text(password)
        else:
            has_password = False

        command = self._contact_changes(command, account)
        if command.pin is not None and command.pin.pin is not None:
            self.require(FIELD_RULES["PINInfo"])
        if has_password:
            # Comparing with the stored password answers whether a guess is right: it is
            # counted like a reauthentication, and never made for an impersonation token.
            def same_password() -> bool:
                ratelimit.sensitive_operation_hit(
                    tenant=self.tenant, operation="reauth", key=account.uid
                )
                return services.account_password_verify(account=account, password=password)

            has_password = not self.unchanged_or_require(FIELD_RULES["Password"], same_password)
        if answers and self.unchanged_or_require(
            FIELD_RULES["SecurityQuestionAnswer"],
            lambda: security_answers_verify(account=account, answers=answers),
        ):
            raw = _without(raw, ("SecurityQuestionAnswer",))

        with transaction.atomic():
            account = self.profile_write(
                lambda: services.account_update(
                    command, tenant=self.tenant, actor=self.actor, account=account
                ),
                CIBody(raw),
            )
            if has_password:
                services.account_password_set(
                    PasswordSet(password=password, reason="set with a profile update"),
                    tenant=self.tenant,
                    actor=self.actor,
                    account=account,
                )
        account = account_get(tenant=self.tenant, uid=account.uid, for_profile=True)
        profile = apply_fields(account_profile(account=account), self.query.get("fields"))
        return self.respond({"IsPosted": True, "Data": profile}, project=False)

    def _contact_changes(self, command: AccountChanges, account) -> AccountChanges:
        """`command` without the Email and PhoneId it sends back unchanged; the rule of
        those it changes is asked for."""
        changed: list[str] = []
        if command.emails:
            rows = account_email_rows(account)
            pairs = {(r["type"].lower(), r["value"].lower()) for r in rows}
            values = {r["value"].lower() for r in rows}
            if any(
                (edit.value.lower() in values)
                if edit.remove
                else ((edit.type.lower(), edit.value.lower()) not in pairs)
                for edit in command.emails
            ):
                changed.append("Email")
            else:
                command = dataclasses.replace(command, emails=())
        if "PhoneId" in command.values:
            if command.values["PhoneId"] != (account.phone_id or None):
                changed.append("PhoneId")
            else:
                values = {k: v for k, v in command.values.items() if k != "PhoneId"}
                command = dataclasses.replace(command, values=values)
        if "PhoneId" in command.cleared:
            if account.phone_id:
                changed.append("PhoneId")
            else:
                cleared = tuple(name for name in command.cleared if name != "PhoneId")
                command = dataclasses.replace(command, cleared=cleared)
        for name in changed:
            self.require(FIELD_RULES[name])
        return command

    @extend_schema(
        tags=TAG,
        operation_id="deleteAccountWithEmailConfirmation",
        summary="Email the account a link that deletes it",
        parameters=[
            TOKEN,
            s.query("deleteUrl", "Link base of the delete confirmation."),
            s.query("emailTemplate", "Email template name."),
        ],
        request=None,
        responses=_DELETE_REQUESTED,
    )
    def delete(self, request):
        rows = account_email_rows(self.account)
        primary = next((r for r in rows if r["type"].lower() == "primary"), None)
        primary = primary or (rows[0] if rows else None)
        if primary is None:
            raise LRError(
                1134,
                "The account has no email address to send the delete confirmation to.",
                errors=[{"FieldName": "Email", "ErrorMessage": "The account has no email."}],
            )
        token_issue(
            TokenIssue(
                kind=MultipurposeToken.KIND_EMAIL,
                purpose="deleteuser",
                destination=primary["value"],
                send=True,
                template=self.query.get("emailtemplate") or "",
                link_base=self.query.get("deleteurl") or "",
                reason="deletion asked with an access token",
            ),
            tenant=self.tenant,
            account=self.account,
            actor=self.actor,
        )
        return self.respond({"IsDeleteRequestAccepted": True}, project=False)


_verify_email_by_token = EmailVerifyByTokenView.as_view()


class TokenEmailView(TokenSideView):
    """POST and DELETE /identity/v2/auth/email (add, remove) with an access token. A GET of
    the same path verifies an email by the token of a verification message, with the API
    key alone: it is handed to that view before any access token is asked for."""

    # Methods `dispatch` hands to the verification view, which runs them with the API key
    # alone: no access token is asked for (the security model's token routes leave them out).
    key_only_methods = ("GET", "HEAD")

    def dispatch(self, request, *args, **kwargs):
        if request.method in self.key_only_methods:
            return _verify_email_by_token(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    # Declared for the schema and the allowed methods; `dispatch` runs the verification view.
    get = EmailVerifyByTokenView.get

    @extend_schema(
        tags=TAG,
        operation_id="addEmail",
        summary="Add an email (unverified) and send it a verification message",
        parameters=[
            TOKEN,
            s.query("emailTemplate", "Email template name."),
            s.query("verificationUrl", "Verification link base."),
        ],
        request=inline_serializer(
            "TokenAddEmailBody",
            {"email": serializers.EmailField(), "type": serializers.CharField()},
        ),
        responses=s.IS_POSTED,
    )
    def post(self, request):
        body = self.body()
        email, kind = body.get("email"), body.get("type")
        if email is None or (isinstance(email, str) and not email.strip()):
            raise required("email")
        if kind is None or (isinstance(kind, str) and not kind.strip()):
            raise required("type")
        [address] = profile_body.email_addresses_read([{"Type": kind, "Value": email}])
        with transaction.atomic():
            services.account_email_upsert(
                EmailUpsert(emails=(address,)),
                tenant=self.tenant,
                actor=self.actor,
                account=self.account,
            )
            verification_email_send(
                VerificationEmailSend(
                    email=address.value,
                    template=self.query.get("emailtemplate") or "",
                    verification_url=self.query.get("verificationurl") or "",
                ),
                tenant=self.tenant,
                account=self.account,
                actor=self.actor,
            )
        return self.respond({"IsPosted": True}, project=False)

    @extend_schema(
        tags=TAG,
        operation_id="removeEmail",
        summary="Remove an email",
        parameters=[TOKEN],
        request=s.EMAIL_BODY,
        responses=s.IS_DELETED,
    )
    def delete(self, request):
        email = self.body().get("email")
        if email is None or (isinstance(email, str) and not email.strip()):
            raise required("email")
        services.account_email_remove(
            EmailRemove(email=profile_body.email_text(email)),
            tenant=self.tenant,
            actor=self.actor,
            account=self.account,
        )
        return self.respond({"IsDeleted": True}, project=False)


class TokenPasswordChangeView(TokenSideView):
    """PUT /identity/v2/auth/password/change: the old password is the proof."""

    @extend_schema(
        tags=TAG,
        operation_id="changePassword",
        summary="Change the password given the old one",
        parameters=[TOKEN],
        request=inline_serializer(
            "ChangePasswordBody",
            {"oldPassword": serializers.CharField(), "newPassword": serializers.CharField()},
        ),
        responses=s.IS_POSTED,
    )
    def put(self, request):
        body = self.body()
        old, new = body.get("oldpassword"), body.get("newpassword")
        if not isinstance(old, str) or not old:
            raise required("oldPassword")
        if not isinstance(new, str) or not new:
            raise required("newPassword")
        ratelimit.sensitive_operation_hit(
            tenant=self.tenant, operation="reauth", key=self.account.uid
        )
        account_password_change(
            PasswordChange(old_password=old, new_password=new),
            tenant=self.tenant,
            actor=self.actor,
            account=self.account,
        )
        return self.respond({"IsPosted": True}, project=False)


class TokenAccountUnlockView(TokenSideView):
    """PUT /identity/v2/auth/account/unlock: not served (it needs a captcha provider)."""

    @extend_schema(
        tags=TAG,
        operation_id="unlockAccountByToken",
        summary="Not served: unlock by a bot-protection challenge",
        parameters=[TOKEN],
        request=None,
        responses={405: None},
    )
    def put(self, request):
        raise not_served(NOT_SERVED_UNLOCK)
