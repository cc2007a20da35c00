"""OpenAPI shapes of the Accounts section (drf-spectacular)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

FIELDS = OpenApiParameter(
    "fields",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description="Response projection: `a,b`, `a/b`, `a(b,c)` or `*`.",
)
NULL_SUPPORT = OpenApiParameter(
    "nullsupport",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    description="true: null values in the body clear those fields (any case: nullSupport).",
)


def query(
    name: str, description: str, *, required: bool = False, type_=OpenApiTypes.STR
) -> OpenApiParameter:
    return OpenApiParameter(
        name, type_, OpenApiParameter.QUERY, required=required, description=description
    )


PROFILE = inline_serializer(
    "AccountProfile",
    {
        "Uid": serializers.CharField(),
        "ID": serializers.CharField(),
        "Provider": serializers.CharField(),
        "Email": serializers.ListField(child=serializers.DictField(), allow_null=True),
        "EmailVerified": serializers.BooleanField(),
        "UserName": serializers.CharField(allow_null=True),
        "PhoneId": serializers.CharField(allow_null=True),
        "PhoneIdVerified": serializers.BooleanField(),
        "FirstName": serializers.CharField(allow_null=True),
        "MiddleName": serializers.CharField(allow_null=True),
        "LastName": serializers.CharField(allow_null=True),
        "FullName": serializers.CharField(allow_null=True),
        "BirthDate": serializers.CharField(allow_null=True, help_text="MM-dd-yyyy"),
        "Gender": serializers.CharField(allow_null=True),
        "Company": serializers.CharField(allow_null=True),
        "Country": serializers.DictField(allow_null=True),
        "City": serializers.CharField(allow_null=True),
        "ImageUrl": serializers.CharField(allow_null=True),
        "ThumbnailImageUrl": serializers.CharField(allow_null=True),
        "Addresses": serializers.ListField(child=serializers.DictField(), allow_null=True),
        "PhoneNumbers": serializers.ListField(child=serializers.DictField(), allow_null=True),
        "CustomFields": serializers.DictField(allow_null=True),
        "Roles": serializers.ListField(child=serializers.CharField(), allow_null=True),
        "PrivacyPolicy": serializers.DictField(allow_null=True),
        "IsActive": serializers.BooleanField(),
        "IsDeleted": serializers.BooleanField(),
        "IsLoginLocked": serializers.BooleanField(),
        "LoginLockedType": serializers.CharField(allow_null=True),
        "IsCustomUid": serializers.BooleanField(),
        "IsEmailSubscribed": serializers.BooleanField(),
        "Password": serializers.CharField(
            allow_null=True,
            help_text="Always null: the hash is returned only by GET .../{uid}/password.",
        ),
        "LastPasswordChangeDate": serializers.DateTimeField(allow_null=True),
        "PreviousUids": serializers.ListField(child=serializers.CharField(), allow_null=True),
        "NoOfLogins": serializers.IntegerField(),
        "SignupDate": serializers.DateTimeField(),
        "LastLoginDate": serializers.DateTimeField(allow_null=True),
        "RegistrationSource": serializers.CharField(allow_null=True),
        "CreatedDate": serializers.DateTimeField(),
        "ModifiedDate": serializers.DateTimeField(),
        "Identities": serializers.ListField(child=serializers.DictField(), allow_null=True),
    },
)

PROFILE_BODY = inline_serializer(
    "AccountProfileBody",
    {
        "Email": serializers.ListField(child=serializers.DictField(), required=False),
        "Password": serializers.CharField(required=False, help_text="Create only."),
        "UserName": serializers.CharField(required=False),
        "PhoneId": serializers.CharField(required=False),
        "Uid": serializers.CharField(
            required=False, help_text="Create only: a custom UID [A-Za-z0-9_-]{1,50}."
        ),
        "FirstName": serializers.CharField(required=False),
        "LastName": serializers.CharField(required=False),
        "BirthDate": serializers.CharField(required=False, help_text="MM-dd-yyyy"),
        "EmailVerified": serializers.BooleanField(required=False),
        "PhoneIdVerified": serializers.BooleanField(required=False),
        "IsActive": serializers.BooleanField(required=False, help_text="false blocks the account."),
        "IsLoginLocked": serializers.BooleanField(
            required=False, help_text="false unlocks the account."
        ),
        "CustomFields": serializers.DictField(required=False),
        "PrivacyPolicy": serializers.DictField(required=False),
        "Consents": serializers.DictField(required=False),
        "Addresses": serializers.ListField(child=serializers.DictField(), required=False),
        "PhoneNumbers": serializers.ListField(child=serializers.DictField(), required=False),
    },
)

EMAILS_BODY = inline_serializer(
    "AccountEmailsBody", {"Email": serializers.ListField(child=serializers.DictField())}
)
EMAIL_BODY = inline_serializer("AccountEmailBody", {"email": serializers.EmailField()})
PHONE_BODY = inline_serializer("AccountPhoneBody", {"phone": serializers.CharField()})
PASSWORD_BODY = inline_serializer("AccountPasswordBody", {"password": serializers.CharField()})
NEW_UID_BODY = inline_serializer("AccountNewUidBody", {"newUid": serializers.CharField()})
SOCIAL_IDENTITY_BODY = inline_serializer(
    "SocialIdentityBody",
    {"provider": serializers.CharField(), "providerid": serializers.CharField()},
)
IS_DELETED = inline_serializer(
    "AccountIsDeleted",
    {
        "IsDeleted": serializers.BooleanField(),
        "RecordsDeleted": serializers.IntegerField(required=False),
    },
)
IS_POSTED = inline_serializer("AccountIsPosted", {"IsPosted": serializers.BooleanField()})
PASSWORD_HASH = inline_serializer(
    "AccountPasswordHash", {"PasswordHash": serializers.CharField(allow_null=True)}
)
SOTT = inline_serializer(
    "Sott", {"Sott": serializers.CharField(), "ExpiryTime": serializers.DateTimeField()}
)
IDENTITIES = inline_serializer(
    "AccountIdentitiesByEmail", {"Data": serializers.ListField(child=serializers.DictField())}
)
PRIVACY_HISTORY = inline_serializer(
    "PrivacyPolicyHistory",
    {
        "Uid": serializers.CharField(),
        "Current": serializers.DictField(allow_null=True),
        "History": serializers.ListField(child=serializers.DictField()),
    },
)
CONSENT_LOGS = inline_serializer(
    "ConsentLogs",
    {
        "Uid": serializers.CharField(),
        "ConsentLogs": serializers.ListField(child=serializers.DictField()),
    },
)
