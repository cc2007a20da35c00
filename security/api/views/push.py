"""Push approval: device registration and the challenge of a pending sign-in."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from portal import ratelimit
from portal.lrapi.errors import LRError, required
from portal.lrapi.params import parse_bool
from portal.lrapi.views import LRAPIView
from security import services
from security.api.views.common import TAG_MFA, TOKEN_QUERY, IsPosted, iso
from security.api.views.signin import LoginResponse, session_body
from security.commands import PushDeviceRegister


class PushDeviceRegisterView(LRAPIView):
    """POST /identity/v2/auth/account/2fa/push: register the caller's device for push approval."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(
        tags=TAG_MFA,
        operation_id="mfaPushDeviceRegisterByAccessToken",
        summary="Register the caller's device for push approval of sign-ins",
        request=inline_serializer(
            "PushDevice",
            {
                "DeviceToken": serializers.CharField(),
                "DeviceName": serializers.CharField(required=False),
            },
        ),
        responses=inline_serializer(
            "PushDeviceRegistered",
            {"DeviceId": serializers.IntegerField(), "DeviceSecret": serializers.CharField()},
        ),
    )
    def post(self, request):
        body = self.body()
        address = body.get("devicetoken")
        name = body.get("devicename") or ""
        if not address or not isinstance(address, str) or not isinstance(name, str):
            raise required("devicetoken")
        registered = services.push_device_register(
            PushDeviceRegister(device_address=address, name=name),
            tenant=self.tenant,
            actor=self.actor,
            account=self.account,
        )
        return self.respond(
            {"DeviceId": registered.device.pk, "DeviceSecret": registered.device_secret}
        )


class PushChallengeStartView(LRAPIView):
    """POST /identity/v2/auth/login/2fa/push: send the pending sign-in to the device."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(
        tags=TAG_MFA,
        operation_id="mfaPushChallengeStart",
        summary="Send a pending sign-in to the account's device for approval",
        parameters=[TOKEN_QUERY],
        request=None,
        responses=inline_serializer(
            "PushChallenge",
            {"ChallengeId": serializers.CharField(), "ExpireIn": serializers.CharField()},
        ),
    )
    def post(self, request):
        login = services.login_challenge_get(
            tenant=self.tenant, token=self.query.get("secondfactorauthenticationtoken")
        )
        ratelimit.sensitive_operation_hit(
            tenant=self.tenant, operation="token_send", key=login.account.uid
        )
        challenge = services.push_challenge_start(tenant=self.tenant, login=login)
        return self.respond(
            {"ChallengeId": challenge.public_id, "ExpireIn": iso(challenge.expires_at)}
        )


class PushChallengeRespondView(LRAPIView):
    """PUT /identity/v2/auth/login/2fa/push/respond: the device approves or denies."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(
        tags=TAG_MFA,
        operation_id="mfaPushChallengeRespond",
        summary="Approve or deny a pending sign-in from the device",
        request=inline_serializer(
            "PushRespond",
            {
                "ChallengeId": serializers.CharField(),
                "DeviceSecret": serializers.CharField(),
                "Approve": serializers.BooleanField(),
            },
        ),
        responses=IsPosted,
    )
    def put(self, request):
        body = self.body()
        challenge_id, secret = body.get("challengeid"), body.get("devicesecret")
        if not isinstance(challenge_id, str) or not challenge_id:
            raise required("challengeid")
        if not isinstance(secret, str) or not secret:
            raise required("devicesecret")
        if "approve" not in body:
            raise required("approve")
        approve = parse_bool(body.get("approve"), name="approve")
        challenge = services.push_challenge_decide(
            tenant=self.tenant, challenge_id=challenge_id, device_secret=secret, approve=approve
        )
        if not approve:
            # The denial concludes this attempt, once (a challenge is answered once); the
            # sign-in's polls of it record nothing.
            services.login_second_factor_refused(
                tenant=self.tenant, account=challenge.account, method="push"
            )
        return self.respond({"IsPosted": True})


class PushChallengeStatusView(LRAPIView):
    """GET /identity/v2/auth/login/2fa/push/status: pending, or the session once approved."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(
        tags=TAG_MFA,
        operation_id="mfaPushChallengeStatus",
        summary="Whether the device approved a pending sign-in; its session once approved",
        parameters=[
            TOKEN_QUERY,
            OpenApiParameter(
                "challengeid", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True
            ),
        ],
        responses=LoginResponse,
    )
    def get(self, request):
        login = services.login_challenge_get(
            tenant=self.tenant, token=self.query.get("secondfactorauthenticationtoken")
        )
        status = services.push_challenge_status(
            login=login, challenge_id=self.query.get("challengeid")
        )
        if status == "pending":
            return self.respond({"Status": "pending"})
        if status != "approved":
            raise LRError(1193, f"The sign-in was {status} on the device.")
        if not services.login_challenge_complete(row=login):
            raise LRError(1193)
        return self.respond(
            session_body(
                tenant=self.tenant, account=login.account, reason="sign-in approved on device"
            )
        )
