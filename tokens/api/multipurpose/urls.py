from accounts.api.views.token_side import TokenEmailView
from portal.lrapi.routing import lr_path
from tokens.api.multipurpose import (
    email_token_views,
    native_messages,
    sms_otp_views,
    token_use_views,
)

_M = "identity/v2/manage/account"

urlpatterns = [
    lr_path(
        f"{_M}/forgot/token",
        email_token_views.ForgotPasswordTokenView.as_view(),
        name="forgot_token",
    ),
    lr_path(
        f"{_M}/verify/token",
        email_token_views.EmailVerificationTokenView.as_view(),
        name="verify_token",
    ),
    lr_path(f"{_M}/vtoken", email_token_views.VerificationTokenView.as_view(), name="vtoken"),
    lr_path(
        f"{_M}/emailtoken",
        email_token_views.EmailTokenMissingTypeView.as_view(),
        name="emailtoken_missing",
    ),
    lr_path(
        f"{_M}/emailtoken/",
        email_token_views.EmailTokenMissingTypeView.as_view(),
        name="emailtoken_missing_slash",
    ),
    lr_path(
        f"{_M}/emailtoken/<str:tokentype>",
        email_token_views.EmailTokenView.as_view(),
        name="emailtoken",
    ),
    lr_path(f"{_M}/smsotp", sms_otp_views.SmsOtpMissingTypeView.as_view(), name="smsotp_missing"),
    lr_path(
        f"{_M}/smsotp/", sms_otp_views.SmsOtpMissingTypeView.as_view(), name="smsotp_missing_slash"
    ),
    lr_path(f"{_M}/smsotp/<str:smsotptype>", sms_otp_views.SmsOtpView.as_view(), name="smsotp"),
    # GET verifies by token with the API key alone; POST and DELETE add and remove an
    # email with an access token (accounts' token side hands the GET back to
    # EmailVerifyByTokenView).
    lr_path("identity/v2/auth/email", TokenEmailView.as_view(), name="auth_email"),
    lr_path(
        "identity/v2/auth/password/reset",
        token_use_views.PasswordResetByTokenView.as_view(),
        name="auth_password_reset",
    ),
    lr_path(
        "identity/v2/auth/password/otp",
        token_use_views.PasswordResetByOtpView.as_view(),
        name="auth_password_otp",
    ),
    lr_path(
        "identity/v2/auth/phone/otp",
        token_use_views.PhoneVerifyByOtpView.as_view(),
        name="auth_phone_otp",
    ),
    lr_path(
        "identity/v2/auth/account/delete",
        token_use_views.AccountDeleteByTokenView.as_view(),
        name="auth_account_delete",
    ),
    lr_path("api/v1/messages", native_messages.MessageListView.as_view(), name="messages_list"),
    lr_path(
        "api/v1/messages/<str:message_id>/resend",
        native_messages.MessageResendView.as_view(),
        name="message_resend",
    ),
]
