"""The Accounts section of the LoginRadius Account API (§1.1), the token-side identity
unlink, and the native account search and identity endpoints. Views parse input, call a
service or selector, and shape the response."""

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.pagination import CursorPagination

from accounts import profile_fields, selectors, services
from accounts.api import schema as s
from accounts.models import Account
from accounts.selectors import account_get, account_profile, lr_datetime
from accounts.sott import sott_make
from portal.lrapi.errors import LRError, required
from portal.lrapi.params import CIBody
from portal.lrapi.views import LRAPIView
from security.services import security_answers_set
from tokens.services import multipurpose

TAG = ["Accounts"]
UID = OpenApiParameter("uid", str, OpenApiParameter.PATH, description="The account UID.")
SOTT_MAX_MINUTES = 60 * 24 * 365


class AccountsView(LRAPIView):
    section = "accounts"

    def profile(self, account: Account, status: int = 200):
        account = account_get(tenant=self.tenant, uid=account.uid, for_profile=True)
        return self.respond(account_profile(account=account), status=status)

    def account(self, uid: str) -> Account:
        return account_get(tenant=self.tenant, uid=uid)

    def null_support(self) -> bool:
        return self.query.get_bool("nullsupport")

    def profile_write(self, write: Callable[[], Account], body: CIBody) -> Account:
        """Run a create or update of the account with the body's security answers, which the
        security section stores in the same transaction: answers it refuses leave the account
        unchanged too. Without answers the write's own transaction is the only one."""
        answers = profile_fields.security_answers(body)
        if not answers:
            return write()
        with transaction.atomic():
            account = write()
            security_answers_set(
                tenant=self.tenant, actor=self.actor, account=account, answers=answers
            )
        return account


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
        account = self.profile_write(
            lambda: services.account_create(tenant=self.tenant, actor=self.actor, data=body), body
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
        count = services.accounts_delete_by_email(
            tenant=self.tenant, actor=self.actor, email=self.query.get_plus_preserving("email")
        )
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
        account = self.profile_write(
            lambda: services.account_update(
                tenant=self.tenant,
                actor=self.actor,
                account=self.account(uid),
                changes=body,
                null_support=self.null_support(),
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
        services.account_delete(tenant=self.tenant, actor=self.actor, account=self.account(uid))
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
        services.account_uid_update(
            tenant=self.tenant, actor=self.actor, account=account, new_uid_value=body.get("newUid")
        )
        return self.respond({"IsPosted": True}, project=False)

    @extend_schema(tags=TAG, operation_id="deleteAccountByLiteralUid", exclude=True)
    def delete(self, request):
        return super().delete(request, uid="uid")


class AccountEmailView(AccountsView):
    @extend_schema(
        tags=TAG,
        operation_id="upsertEmailForAccount",
        summary="Add or change emails by Type",
        parameters=[UID, s.FIELDS],
        request=s.EMAILS_BODY,
        responses=s.PROFILE,
    )
    def put(self, request, uid):
        account = self.account(uid)
        emails = self.body().get("Email")
        if emails is None:
            raise required("Email")
        account = services.account_email_upsert(
            tenant=self.tenant, actor=self.actor, account=account, emails=emails
        )
        return self.profile(account)

    @extend_schema(
        tags=TAG,
        operation_id="deleteEmailFromAccount",
        summary="Remove an email",
        parameters=[UID, s.FIELDS],
        request=s.EMAIL_BODY,
        responses=s.PROFILE,
    )
    def delete(self, request, uid):
        account = self.account(uid)
        account = services.account_email_remove(
            tenant=self.tenant, actor=self.actor, account=account, email=self.body().get("email")
        )
        return self.profile(account)


class AccountPhoneView(AccountsView):
    @extend_schema(
        tags=TAG,
        operation_id="updatePhoneNumber",
        summary="Replace the phone id",
        parameters=[UID, s.FIELDS],
        request=s.PHONE_BODY,
        responses=s.PROFILE,
    )
    def put(self, request, uid):
        account = self.account(uid)
        body = self.body()
        phone = body.get("phone") if "phone" in body else body.get("phoneid")
        account = services.account_phone_update(
            tenant=self.tenant, actor=self.actor, account=account, phone=phone
        )
        return self.profile(account)


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
        account = services.account_password_set(
            tenant=self.tenant,
            actor=self.actor,
            account=account,
            password=self.body().get("password"),
        )
        return self.respond({"PasswordHash": account.password}, project=False)


class AccountInvalidateEmailView(AccountsView):
    @extend_schema(
        tags=TAG,
        operation_id="invalidateEmailVerification",
        summary="Mark the email unverified and resend verification",
        parameters=[
            UID,
            s.query("emailTemplate", "Email template name."),
            s.query("verificationUrl", "Verification link base."),
        ],
        request=None,
        responses=s.IS_POSTED,
    )
    def put(self, request, uid):
        account = self.account(uid)
        with transaction.atomic():
            email = services.account_email_verification_invalidate(
                tenant=self.tenant, actor=self.actor, account=account
            )
            multipurpose.verification_email_send(
                tenant=self.tenant,
                account=account,
                email=email,
                actor=self.actor,
                template=self.query.get("emailtemplate") or "",
                verification_url=self.query.get("verificationurl") or "",
            )
        return self.respond({"IsPosted": True}, project=False)


class AccountInvalidatePhoneView(AccountsView):
    @extend_schema(
        tags=TAG,
        operation_id="resetPhoneVerification",
        summary="Mark the phone unverified and send an OTP",
        parameters=[
            UID,
            s.query("smsTemplate", "SMS template name."),
            s.query("isVoiceOtp", "Voice OTP.", type_=bool),
        ],
        request=None,
        responses=s.IS_POSTED,
    )
    def put(self, request, uid):
        account = self.account(uid)
        template, voice = self.query.get("smstemplate") or "", self.query.get_bool("isvoiceotp")
        with transaction.atomic():
            account = services.account_phone_verification_invalidate(
                tenant=self.tenant, actor=self.actor, account=account
            )
            multipurpose.phone_verification_send(
                tenant=self.tenant,
                account=account,
                actor=self.actor,
                template=template,
                voice=voice,
            )
        return self.respond({"IsPosted": True}, project=False)


class AccountIdentitiesByEmailView(AccountsView):
    @extend_schema(
        tags=TAG,
        operation_id="getIdentities",
        summary="Every account using an email",
        parameters=[s.query("email", "Email.", required=True), s.FIELDS],
        responses=s.IDENTITIES,
    )
    def get(self, request):
        accounts = selectors.accounts_by_email(
            tenant=self.tenant, email=self.query.get_plus_preserving("email")
        )
        profiles = [account_profile(account=a) for a in accounts]
        fields = self.query.get("fields")
        if fields:
            from portal.lrapi.projection import apply_fields

            profiles = [apply_fields(p, fields) for p in profiles]
        return self.respond({"Data": profiles}, project=False)


class AccountPrivacyPolicyHistoryView(AccountsView):
    @extend_schema(
        tags=TAG,
        operation_id="getPrivacyPolicyHistoryByUid",
        summary="Privacy policy acceptances",
        parameters=[UID],
        responses=s.PRIVACY_HISTORY,
    )
    def get(self, request, uid):
        account = self.account(uid)
        return self.respond(selectors.privacy_policy_history(tenant=self.tenant, account=account))


class AccountConsentLogsView(AccountsView):
    @extend_schema(
        tags=["Consent Management"],
        operation_id="getConsentLogsByUid",
        summary="Consent logs",
        parameters=[UID],
        responses=s.CONSENT_LOGS,
    )
    def get(self, request, uid):
        account = self.account(uid)
        return self.respond(selectors.consent_logs(tenant=self.tenant, account=account))


class SottView(AccountsView):
    @extend_schema(
        tags=TAG,
        operation_id="generateSott",
        summary="A Secure One-Time Token for registration",
        parameters=[s.query("timedifference", "Validity in minutes (default 10).", type_=int)],
        responses=s.SOTT,
    )
    def get(self, request):
        raw = self.query.get("timedifference")
        minutes = 10
        if raw not in (None, ""):
            try:
                minutes = int(raw)
            except ValueError:
                minutes = 0
            if not 1 <= minutes <= SOTT_MAX_MINUTES:
                raise LRError(
                    1134,
                    errors=[
                        {
                            "FieldName": "timedifference",
                            "ErrorMessage": "timedifference must be a number of minutes from 1 to 525600.",
                        }
                    ],
                )
        credential = self.principal.credential
        if credential is None:
            raise LRError(923)
        start = timezone.now()
        end = start + timedelta(minutes=minutes)
        token = sott_make(
            api_key=self.tenant.api_key, api_secret=credential.raw_secret(), start=start, end=end
        )
        return self.respond({"Sott": token, "ExpiryTime": lr_datetime(end)})


class SocialIdentityUnlinkView(LRAPIView):
    """Token side: the signed-in account unlinks one of its provider identities."""

    section = "accounts"
    auth_mode = "access_token"

    @extend_schema(
        tags=["Authentication"],
        operation_id="unlinkSocialIdentities",
        summary="Unlink a provider identity",
        parameters=[s.query("access_token", "Access token (or Authorization: Bearer).")],
        request=s.SOCIAL_IDENTITY_BODY,
        responses=s.IS_DELETED,
    )
    def delete(self, request):
        body = self.body()
        services.account_identity_unlink(
            tenant=self.tenant,
            actor=self.actor,
            account=self.account,
            provider=body.get("provider"),
            provider_id=body.get("providerid"),
        )
        return self.respond({"IsDeleted": True}, project=False)


class AuthPrivacyPolicyHistoryView(LRAPIView):
    """Token side: the signed-in account's privacy-policy acceptances."""

    section = "accounts"
    auth_mode = "access_token"

    @extend_schema(
        tags=["Authentication"],
        operation_id="authPrivacyPolicyHistory",
        summary="My privacy policy acceptances",
        parameters=[s.query("access_token", "Access token (or Authorization: Bearer).")],
        responses=s.PRIVACY_HISTORY,
    )
    def get(self, request):
        return self.respond(
            selectors.privacy_policy_history(tenant=self.tenant, account=self.account)
        )


# ---------------------------------------------------------------- native API


class AccountCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def account_summary(account: Account) -> dict:
    emails = list(account.emails.all())
    return {
        "uid": account.uid,
        "emails": [{"type": e.type, "value": e.value, "verified": e.verified} for e in emails],
        "username": account.username,
        "phone": account.phone_id,
        "first_name": account.first_name,
        "last_name": account.last_name,
        "full_name": account.full_name,
        "blocked": not account.is_active,
        "locked": selectors.is_login_locked(account),
        "email_verified": account.email_verified,
        "phone_verified": account.phone_id_verified,
        "created": account.created.isoformat(),
        "last_login": account.last_login_date.isoformat() if account.last_login_date else None,
    }


class AccountSearchView(LRAPIView):
    """Native account search with an exact total count and cursor pagination."""

    section = "accounts"

    @extend_schema(
        tags=["Native"],
        operation_id="accounts_search",
        summary="Search accounts",
        parameters=[
            s.query("search", "Substring of a name, email, username, phone or UID."),
            s.query("email", "Email (exact, any case)."),
            s.query("email_prefix", "The start of an email (any case)."),
            s.query("phone", "Phone id (E.164)."),
            s.query("username", "Username (exact, any case)."),
            s.query("uid", "UID."),
            s.query("blocked", "true/false.", type_=bool),
            s.query("locked", "true/false.", type_=bool),
            s.query("verified", "Email verified: true/false.", type_=bool),
            s.query(
                "has_mfa",
                "Has a second factor (TOTP, SMS or email OTP, security questions, push): true/false.",
                type_=bool,
            ),
            s.query("role", "Holds this role directly (exact name)."),
            s.query("created_after", "ISO-8601 date-time (inclusive)."),
            s.query("created_before", "ISO-8601 date-time (exclusive)."),
            s.query("cursor", "Opaque cursor from next/previous."),
            s.query("page_size", "1 to 200 (default 50).", type_=int),
        ],
        responses=s.SEARCH_RESULT,
    )
    def get(self, request):
        queryset = selectors.account_search(tenant=self.tenant, params=request.query_params)
        count = queryset.count()
        paginator = AccountCursorPagination()
        try:
            page = paginator.paginate_queryset(
                selectors.accounts_with_emails(queryset), request, view=self
            )
        except Exception as exc:  # a cursor that does not decode
            from rest_framework.exceptions import NotFound

            if isinstance(exc, NotFound):
                raise LRError(
                    1134, errors=[{"FieldName": "cursor", "ErrorMessage": "The cursor is invalid."}]
                ) from exc
            raise
        return self.respond(
            {
                "count": count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": [account_summary(a) for a in page],
            }
        )


def identity_json(identity) -> dict:
    return {
        "provider": identity.provider,
        "provider_id": identity.provider_id,
        "emails": [e["Value"] for e in (identity.profile or {}).get("Email", [])],
        "profile": {k: v for k, v in (identity.profile or {}).items() if k != "Email"},
        "linked_at": identity.created.isoformat(),
    }


class AccountIdentityLinkView(LRAPIView):
    section = "accounts"

    @extend_schema(
        tags=["Native"],
        operation_id="account_identity_link",
        summary="Link a provider identity",
        parameters=[UID],
        request=s.IDENTITY_LINK_BODY,
        responses={201: s.IDENTITY},
    )
    def post(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        body = self.body()
        provider_id = body.get("provider_id") if "provider_id" in body else body.get("providerid")
        identity = services.account_identity_link(
            tenant=self.tenant,
            actor=self.actor,
            account=account,
            provider=body.get("provider"),
            provider_id=provider_id,
            profile=body.raw().get(body.original_key("profile")) if "profile" in body else None,
            emails=body.get("emails"),
        )
        return self.respond(identity_json(identity), status=201)


class AccountIdentityUnlinkView(LRAPIView):
    section = "accounts"

    @extend_schema(
        tags=["Native"],
        operation_id="account_identity_unlink",
        summary="Unlink a provider identity",
        parameters=[
            UID,
            OpenApiParameter("provider", str, OpenApiParameter.PATH),
            OpenApiParameter("provider_id", str, OpenApiParameter.PATH),
        ],
        request=None,
        responses={204: None},
    )
    def delete(self, request, uid, provider, provider_id):
        account = account_get(tenant=self.tenant, uid=uid)
        services.account_identity_unlink(
            tenant=self.tenant,
            actor=self.actor,
            account=account,
            provider=provider,
            provider_id=provider_id,
        )
        return self.respond(None, status=204, project=False)
