"""An account's emails: add or change by Type, remove, and mark the address unverified
with a new verification email."""

from django.db import transaction
from drf_spectacular.utils import extend_schema

from accounts import services
from accounts.api import profile_body
from accounts.api import schema as s
from accounts.api.views.common import TAG, UID, AccountsView
from accounts.commands import (
    EmailRemove,
    EmailUpsert,
    EmailVerificationInvalidate,
)
from portal.lrapi.errors import required
from tokens.commands import VerificationEmailSend
from tokens.services import multipurpose


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
        command = EmailUpsert(emails=profile_body.email_addresses_read(emails))
        account = services.account_email_upsert(
            command, tenant=self.tenant, actor=self.actor, account=account
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
        command = EmailRemove(email=profile_body.email_text(self.body().get("email")))
        account = services.account_email_remove(
            command, tenant=self.tenant, actor=self.actor, account=account
        )
        return self.profile(account)


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
                EmailVerificationInvalidate(), tenant=self.tenant, actor=self.actor, account=account
            )
            multipurpose.verification_email_send(
                VerificationEmailSend(
                    email=email,
                    template=self.query.get("emailtemplate") or "",
                    verification_url=self.query.get("verificationurl") or "",
                ),
                tenant=self.tenant,
                account=account,
                actor=self.actor,
            )
        return self.respond({"IsPosted": True}, project=False)
