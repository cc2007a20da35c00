from portal.lrapi.routing import lr_path
from tokens.api import multipurpose_views as views

_M = "identity/v2/manage/account"

urlpatterns = [
    lr_path(f"{_M}/forgot/token", views.ForgotPasswordTokenView.as_view(), name="forgot_token"),
    lr_path(f"{_M}/verify/token", views.EmailVerificationTokenView.as_view(), name="verify_token"),
    lr_path(f"{_M}/vtoken", views.VerificationTokenView.as_view(), name="vtoken"),
    lr_path(f"{_M}/emailtoken", views.EmailTokenMissingTypeView.as_view(), name="emailtoken_missing"),
    lr_path(f"{_M}/emailtoken/", views.EmailTokenMissingTypeView.as_view(), name="emailtoken_missing_slash"),
    lr_path(f"{_M}/emailtoken/<str:tokentype>", views.EmailTokenView.as_view(), name="emailtoken"),
    lr_path(f"{_M}/smsotp", views.SmsOtpMissingTypeView.as_view(), name="smsotp_missing"),
    lr_path(f"{_M}/smsotp/", views.SmsOtpMissingTypeView.as_view(), name="smsotp_missing_slash"),
    lr_path(f"{_M}/smsotp/<str:smsotptype>", views.SmsOtpView.as_view(), name="smsotp"),
    lr_path("identity/v2/auth/email", views.EmailVerifyByTokenView.as_view(), name="auth_email_verify"),
    lr_path("identity/v2/auth/password/reset", views.PasswordResetByTokenView.as_view(), name="auth_password_reset"),
    lr_path("identity/v2/auth/password/otp", views.PasswordResetByOtpView.as_view(), name="auth_password_otp"),
    lr_path("identity/v2/auth/phone/otp", views.PhoneVerifyByOtpView.as_view(), name="auth_phone_otp"),
    lr_path("identity/v2/auth/account/delete", views.AccountDeleteByTokenView.as_view(), name="auth_account_delete"),
    lr_path("api/v1/messages", views.MessageListView.as_view(), name="messages_list"),
]
