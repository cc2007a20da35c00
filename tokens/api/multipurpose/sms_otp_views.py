"""Multipurpose SMS OTPs (management API): the eight typed OTPs."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers

from accounts import selectors as account_selectors
from accounts.models import Account
from portal.lrapi.errors import LRError, required
from portal.lrapi.views import LRAPIView
from tokens.api.multipurpose.params import (
    ERROR,
    account_by_body_uid,
    name_data,
    phone_e164,
)
from tokens.commands import TokenIssue
from tokens.models import MultipurposeToken
from tokens.services import multipurpose as service

TAG = ["Multipurpose Tokens"]


class SmsOtpView(LRAPIView):
    """Generate a multipurpose SMS OTP of one of the eight types."""

    section = "tokens"

    @extend_schema(
        operation_id="multipurposeSmsOtpAPI",
        tags=TAG,
        parameters=[
            OpenApiParameter(
                "smsotptype",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(service.SMS_OTP_TYPES),
                description="OTP type",
            )
        ],
        request=inline_serializer(
            "MultipurposeSmsBody",
            {
                "Phone": serializers.CharField(),
                "Uid": serializers.CharField(required=False),
                "Name": serializers.CharField(required=False),
            },
        ),
        responses={
            200: inline_serializer(
                "MultiSmsToken",
                {"Token": serializers.CharField(), "ExpiresIn": serializers.CharField()},
            ),
            400: ERROR,
            403: ERROR,
            429: ERROR,
        },
    )
    def post(self, request, smsotptype: str = ""):
        smsotptype = smsotptype.strip().lower()
        if not smsotptype:
            raise required("smsotptype")
        if smsotptype not in service.SMS_OTP_TYPES:
            raise LRError(1181)
        body = self.body()
        phone = phone_e164(body.get("phone"))
        if smsotptype == "addphone":
            account = account_by_body_uid(self.tenant, body)
            if (
                Account.objects.filter(tenant=self.tenant, phone_id=phone)
                .exclude(pk=account.pk)
                .exists()
            ):
                raise LRError(1058)
        else:
            account = account_selectors.account_get_by_phone(tenant=self.tenant, phone=phone)
        data = name_data(body)
        issued = service.token_issue(  # handed back, never sent: no send limits
            TokenIssue(
                kind=MultipurposeToken.KIND_SMS,
                purpose=smsotptype,
                destination=phone,
                data=data,
            ),
            tenant=self.tenant,
            account=account,
            actor=self.actor,
        )
        return self.respond(
            {"Token": issued.value, "ExpiresIn": service.lr_datetime(issued.expires_at)}
        )


@extend_schema_view(post=extend_schema(exclude=True))
class SmsOtpMissingTypeView(SmsOtpView):
    """`smsotp` without a type: answers 908 like LoginRadius."""
