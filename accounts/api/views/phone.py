"""An account's phone id: replace it, and mark it unverified with a new OTP."""

from django.db import transaction
from drf_spectacular.utils import extend_schema

from accounts import services
from accounts.api import profile_body
from accounts.api import schema as s
from accounts.api.views.common import TAG, UID, AccountsView
from accounts.commands import (
    PhoneSet,
    PhoneVerificationInvalidate,
)
from tokens.commands import PhoneVerificationSend
from tokens.services import multipurpose


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
            PhoneSet(phone=profile_body.phone_text(phone)),
            tenant=self.tenant,
            actor=self.actor,
            account=account,
        )
        return self.profile(account)


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
                PhoneVerificationInvalidate(), tenant=self.tenant, actor=self.actor, account=account
            )
            multipurpose.phone_verification_send(
                PhoneVerificationSend(template=template, voice=voice),
                tenant=self.tenant,
                account=account,
                actor=self.actor,
            )
        return self.respond({"IsPosted": True}, project=False)
