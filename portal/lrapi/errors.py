"""The LoginRadius error codes this server answers with: one registry, one exception type.

Messages and descriptions follow the LoginRadius response-code catalogue so SDK callers
that match on them keep working. Services raise `LRError(code)`; the exception handler
renders it (see portal/lrapi/exceptions.py).
"""

from dataclasses import dataclass
from typing import Any

from rest_framework.exceptions import APIException


@dataclass(frozen=True)
class ErrorCode:
    code: int
    message: str
    description: str
    status: int


_P = "please use a valid {0} in order to process this request."
CODES: dict[int, ErrorCode] = {}


def _add(code: int, status: int, message: str, description: str) -> None:
    CODES[code] = ErrorCode(code, message, description, status)


# Credentials, signing and transport
_add(
    901,
    403,
    "The API key is unauthorized",
    "The provided LoginRadius API key is invalid or is not authorized, please use a valid or authorized LoginRadius API key or check the API key for your LoginRadius account.",
)
_add(
    902,
    401,
    "The API secret is unauthorized",
    "The provided LoginRadius API secret is invalid or is not authorized, please use a valid or authorized LoginRadius API secret or check the API secret for your LoginRadius account.",
)
_add(908, 400, "A parameter is not formatted correctly", "The apikey is a required parameter.")
_add(
    920,
    400,
    "API key is invalid",
    "The provided LoginRadius API key is not well-formatted, please use a valid LoginRadius API key.",
)
_add(
    921,
    400,
    "API secret is invalid",
    "The provided LoginRadius API secret is not well-formatted, please use a valid LoginRadius API secret.",
)
_add(
    922,
    400,
    "API key is missing",
    "The request is missing the API key, please use the valid API key parameter in order to process this request.",
)
_add(
    923,
    400,
    "API secret is missing",
    "The request is missing the API secret, please use the valid API secret parameter in order to process this request.",
)
_add(
    1143,
    403,
    "Access Unauthorized",
    "Your LoginRadius site secret does not have authorization to access this endpoint.",
)
_add(1206, 403, "IP Access Denied", "The IP address is not allowed to access this resource.")
_add(
    1207,
    400,
    "API signature is missing",
    "The request is missing the API signature (digest header), which is required by this application.",
)
_add(
    1208,
    401,
    "API signature is invalid",
    "The API signature (digest header) does not match the request.",
)
_add(
    1209,
    400,
    "API-Signature/API-Secret is missing",
    "The request carries neither an API secret nor an API signature.",
)
_add(
    1210,
    400,
    "Request expiry time is missing",
    "A signed request must carry the X-Request-Expires header.",
)
_add(
    1211,
    400,
    "The request expiry time has an invalid format",
    "X-Request-Expires must look like 2018-04-18 18:15:10 or 2018-4-18 6:15:10 PM (UTC).",
)
_add(
    1212,
    400,
    "The request expiry time is invalid",
    "The request has expired, or its expiry lies too far in the future.",
)
_add(
    1083,
    400,
    "This content type header is not supported",
    "Please use a valid content type header as application/json.",
)
_add(965, 400, "The post body is invalid", "The post body is invalid or not well formatted JSON.")
_add(
    1079,
    400,
    "Put body is invalid (or empty)",
    "The put body is invalid or not well formatted JSON.",
)
_add(1082, 400, "Delete body is invalid", "The delete body is invalid or not well formatted JSON.")
_add(1090, 400, "Invalid request body or payload", "The request body or payload is invalid.")
_add(1214, 400, "Dangerous request", "A potentially dangerous request value was detected.")
_add(
    950,
    500,
    "Operation failed due to an unknown error",
    "An unknown error occurred; quote the correlation id when reporting it.",
)
_add(404, 404, "Not Found", "The requested resource does not exist on this server.")
_add(405, 405, "Method Not Allowed", "This HTTP method is not supported by this endpoint.")
_add(
    429,
    429,
    "Too Many Request in a particular time frame",
    "The rate limit for this operation was exceeded; retry after the interval in the Retry-After header.",
)
_add(1409, 401, "Authentication failed", "Authentication failed.")

# Accounts
_add(
    936,
    400,
    "Email ID is already registered",
    "The provided email ID is already registered, please use a different email ID.",
)
_add(937, 400, "User ID is invalid", "The provided user ID is invalid, " + _P.format("user ID"))
_add(
    938,
    403,
    "User does not exist",
    "The user does not exist, please use a valid user in order to process this request.",
)
_add(968, 400, "Birth date is invalid", "The provided birth date is invalid; use MM-dd-yyyy.")
_add(991, 403, "User ID is blocked", "The user is blocked, please contact the site administrator.")
_add(
    1005,
    400,
    "User account should have at least one email address",
    "The user account should have at least one email address; the last email cannot be removed.",
)
_add(
    1017,
    400,
    "Username is already registered",
    "The provided username is already registered, please use a different username.",
)
_add(
    1038,
    400,
    "Valid email ID is required",
    "The provided email ID is not valid, please use a valid email ID.",
)
_add(
    1039,
    400,
    "An email profile is not created or does not exist",
    "An email profile is not created or does not exist for this user.",
)
_add(
    1044,
    400,
    "Account ID is already registered",
    "The provided account ID (Uid) is already registered, please use a different one.",
)
_add(
    1058,
    400,
    "Phone number is already registered",
    "The provided phone number is already registered, please use a different phone number.",
)
_add(
    1096,
    400,
    "Invalid phone number.",
    "The provided phone number is invalid, please use a valid phone number in E.164 format.",
)
_add(1107, 400, "Address types must be different", "Each address must have a different Type.")
_add(
    1113,
    400,
    "The profile cannot be enforced to invalidate the email verification.",
    "The profile has no email to invalidate.",
)
_add(
    1115,
    400,
    "The profile cannot be enforced to invalidate the email verification.",
    "The email of this profile is already unverified.",
)
_add(1125, 400, "Address type is required", "Every address must have a Type.")
_add(
    1134,
    400,
    "Validation failed for one or more fields",
    "One or more fields failed validation; see Errors.",
)
_add(
    1147,
    400,
    "The profile cannot be enforced to invalidate the phone verification.",
    "The profile has no phone to invalidate.",
)
_add(
    1161,
    400,
    "This phone number is already unverified",
    "The phone number of this profile is already unverified.",
)
_add(
    1200,
    400,
    "Uid is not valid",
    "A custom Uid may only contain letters, digits, '_' and '-', 1 to 50 characters.",
)
_add(1201, 400, "Email type is required", "Every email must have a Type.")
_add(1202, 400, "Emails must be different", "The same email appears more than once.")
_add(1203, 400, "Only one primary email is allowed", "Only one email may have the Type Primary.")
_add(
    1340,
    400,
    "Email address does not exist in the profile",
    "The email address does not exist in the profile of this user.",
)
_add(
    1148,
    403,
    "Your account has been locked",
    "The account is locked because of too many failed attempts.",
)
_add(
    1198, 403, "Your account has been locked", "The account is locked; see Data.LoginLockedTimeout."
)
_add(
    1132,
    403,
    "Your account has been locked",
    "The account is locked, please contact the site administrator.",
)

# Sessions
_add(
    905,
    403,
    "Access token is invalid",
    "The provided access token is invalid, please use a valid access token.",
)
_add(
    906,
    403,
    "Access token has expired",
    "The provided access token has expired, please use a valid access token.",
)
_add(1060, 400, "Access token is missing", "The request is missing the access token.")
_add(1217, 403, "Refresh token invalid", "LoginRadius refresh token is invalid.")
_add(1337, 400, "Refresh token is missing", "The refresh_token is a required parameter.")
_add(2024, 403, "Token expired or invalid", "The token has expired or is invalid.")

# Security
_add(
    1127,
    400,
    "Backup code already generated",
    "Backup codes were already generated for this account; reset them instead.",
)
_add(
    1128,
    400,
    "Backup code is not valid or already used",
    "The backup code is not valid or has already been used.",
)
_add(
    1193,
    400,
    "Two factor validation token is invalid",
    "The second factor validation token is invalid or has expired.",
)
_add(
    966,
    401,
    "Invalid user ID and/or password",
    "Please use a valid user ID and password combination.",
)
# LoginRadius answers 1317 when a sign-in's password must be reset first (its catalogue has
# no code for an expired password); here it answers a password staff required to be replaced.
_add(
    1317,
    403,
    "Please reset your password via the email we sent you",
    "A new password is required for this account: reset it with the forgot-password option, then sign in with the new password.",
)
_add(
    1102,
    403,
    "The two-factor authenticator code is incorrect",
    "Please enter the correct authenticator code.",
)

# Roles
_add(1047, 400, "Role does not exist", "The role does not exist, please use a valid role.")
_add(1133, 400, "Role Context Name is not Valid", "The role context name is not valid.")
_add(
    1142,
    400,
    "Additional Permission does not exist",
    "The additional permission does not exist in this role context.",
)
_add(1172, 400, "Invalid expiration date", "The expiration date is invalid.")
_add(
    1175,
    400,
    "Role Name is not valid or already exists",
    "The role name is not valid or already exists.",
)

# Multipurpose tokens
_add(
    1178,
    429,
    "Token limit reached",
    "The limit of tokens for this destination was reached; retry later.",
)
_add(
    1179,
    429,
    "OTP limit reached",
    "The limit of OTPs for this phone number was reached; retry later.",
)
_add(
    1181,
    400,
    "You have entered an invalid token type",
    "The token type must be one of emailverification, addemail, forgotpassword, deleteuser, passwordlesslogin, forgotpin, onetouchlogin, autologin.",
)
_add(1306, 400, "vtype is invalid", "The vtype parameter must be email.")
_add(1307, 400, "expires_in is not in a valid format", "expires_in must be a number of seconds.")
_add(
    973,
    403,
    "Invalid email verification link",
    "The email verification link is invalid, please request a new link.",
)
_add(
    974,
    403,
    "The email verification link has already been used",
    "Each link can only be used once; request a new link if needed.",
)
_add(
    975,
    403,
    "Your verification link has expired",
    "This verification link has expired, please request for new verification link.",
)
_add(
    979,
    403,
    "The link cannot be accessed",
    "The link is either expired or has already been used, please request a new link.",
)
_add(1067, 403, "Invalid OTP Code", "The OTP code is invalid, please request for a new OTP.")
_add(1068, 403, "The OTP has already been used", "Each OTP can only be used once.")
_add(
    1069,
    403,
    "Verification OTP has expired",
    "This verification OTP has expired, please request a new OTP.",
)

# Custom objects
_add(995, 400, "Object record id is invalid", "The object record id is invalid.")
_add(
    998,
    400,
    "Custom object limit reached",
    "The limit of custom object records for this account was reached.",
)
_add(
    999,
    400,
    "Custom objects are not configured",
    "Custom objects are not configured for this application.",
)
_add(
    1002,
    400,
    "Custom object limit reached",
    "The custom object exceeds the configured size or depth limit.",
)
_add(1035, 400, "JSON is invalid", "The custom object must be a valid JSON object.")
_add(1057, 404, "Object not found", "The custom object record was not found.")
_add(
    1064,
    400,
    "Custom object name is invalid",
    "The custom object name is invalid or not configured.",
)
_add(
    9412,
    412,
    "Precondition failed",
    "The record changed since it was read (If-Match does not name its current ETag); read it again and retry.",
)


class LRError(APIException):
    """A LoginRadius-style error; `description`, `errors`, `data` refine the registry entry."""

    def __init__(
        self,
        code: int,
        description: str | None = None,
        *,
        message: str | None = None,
        errors: list[dict[str, str]] | None = None,
        data: Any = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        entry = CODES[code]
        self.error_code = code
        self.message = message or entry.message
        self.description = description or entry.description
        self.errors = errors
        self.data = data
        self.status_code = status or entry.status
        self.headers = headers or {}
        super().__init__(detail=self.description)

    def body(self, *, lower_camel: bool = False) -> dict[str, Any]:
        return error_body(
            self.error_code,
            message=self.message,
            description=self.description,
            errors=self.errors,
            data=self.data,
            lower_camel=lower_camel,
        )


def required(name: str) -> LRError:
    """908 for a missing parameter, worded as LoginRadius words it."""
    return LRError(908, f"The {name} is a required parameter.")


def field_errors(errors: dict[str, str]) -> LRError:
    return LRError(
        1134,
        errors=[{"FieldName": name, "ErrorMessage": message} for name, message in errors.items()],
    )


def error_body(
    code: int,
    *,
    message: str | None = None,
    description: str | None = None,
    errors: list[dict[str, str]] | None = None,
    data: Any = None,
    lower_camel: bool = False,
) -> dict[str, Any]:
    entry = CODES[code]
    body: dict[str, Any] = {
        "Description": description or entry.description,
        "ErrorCode": code,
        "Message": message or entry.message,
        "IsProviderError": False,
        "ProviderErrorResponse": None,
    }
    if errors is not None:
        body["Errors"] = errors
    if data is not None:
        body["Data"] = data
    if lower_camel:
        body = {k[0].lower() + k[1:]: v for k, v in body.items()}
    return body
