"""The profile's vocabulary: which fields exist, which may be written, and their limits."""

import re

# Column-backed names.
NAME_COLUMNS = {"FirstName": "first_name", "MiddleName": "middle_name", "LastName": "last_name"}
NAME_MAX_LENGTH = 100

# Free-text profile fields kept in Account.profile.
PROFILE_STRINGS = (
    "Prefix",
    "Suffix",
    "NickName",
    "ProfileName",
    "BirthDate",
    "Gender",
    "Website",
    "State",
    "City",
    "HomeTown",
    "TimeZone",
    "LocalLanguage",
    "Language",
    "ThumbnailImageUrl",
    "ImageUrl",
    "Company",
    "About",
    "LocalCity",
    "LocalCountry",
    "MainAddress",
    "ProfileCity",
    "ProfileCountry",
    "ProfileUrl",
    "Industry",
    "Religion",
    "Political",
    "RelationshipStatus",
    "TagLine",
    "ProfessionalHeadline",
    "Favicon",
    "StaticUrl",
    "Quota",
    "Hireable",
    "CurrentStatus",
    "Age",
    "InterestedIn",
    "ExternalUserLoginId",
    "RegistrationSourceDetail",
)
PROFILE_STRING_MAX_LENGTH = 4000

# Array fields kept in Account.profile; the key names the item an update replaces
# (an item with another key value is appended). `{"op": "delete"}` removes matching items.
PROFILE_ARRAYS: dict[str, str | None] = {
    "Addresses": "Type",
    "PhoneNumbers": "PhoneType",
    "Languages": "Name",
    "PlacesLived": "Name",
    "ExternalIds": "Source",
    "Positions": None,
    "Educations": None,
    "IMAccounts": None,
    "Interests": None,
    "Skills": None,
    "Books": None,
    "Certifications": None,
    "Courses": None,
    "Movies": None,
    "Sports": None,
    "Games": None,
    "Television": None,
    "FavoriteThings": None,
    "Family": None,
    "Patents": None,
    "Publications": None,
    "Recommendations": None,
    "RecommendationsReceived": None,
    "Associations": None,
    "Awards": None,
    "Badges": None,
    "Honors": None,
    "HonorsAndAwards": None,
    "Volunteer": None,
    "MutualFriends": None,
    "Jobbookmarks": None,
    "Suggestions": None,
    "Projects": None,
    "Inspirations": None,
    "Memberships": None,
}
ARRAY_MAX_ITEMS = 100

# Flags kept in Account.profile.
PROFILE_FLAGS = ("IsTwoFactorAuthenticationEnabled", "DisableLogin", "IsProtected", "IsGeoEnabled")

# Social counters and objects that are null until a provider fills them.
SOCIAL_NULLS = (
    "FollowersCount",
    "FriendsCount",
    "LikesCount",
    "IsProtected",
    "IsGeoEnabled",
    "RelationshipStatus",
    "Verified",
    "Hireable",
    "Age",
    "CurrentStatus",
    "Provider",
    "ProfessionalHeadline",
    "ProfileUrl",
    "Favicon",
    "StaticUrl",
    "Quota",
    "MainAddress",
    "LocalCity",
    "LocalCountry",
    "ProfileCity",
    "ProfileCountry",
    "Industry",
    "Religion",
    "Political",
    "TagLine",
    "InterestedIn",
    "Kloutscore",
    "TotalStatusesCount",
)

# Keys that appear in the profile but are never written through create/update; a caller
# that sends a profile back (GET, edit, PUT) has them ignored.
READ_ONLY = (
    "ID",
    "Provider",
    "FullName",
    "Roles",
    "Identities",
    "IsCustomUid",
    "IsPasswordBreached",
    "IsSecurePassword",
    "LastPasswordChangeDate",
    "PasswordExpirationDate",
    "LastPasswordChangeToken",
    "PreviousUids",
    "NoOfLogins",
    "FirstLogin",
    "PinsCount",
    "SignupDate",
    "LastLoginDate",
    "LastLoginLocation",
    "CreatedDate",
    "ModifiedDate",
    "UpdatedTime",
    "UnverifiedEmail",
    "LoginLockedType",
    "FollowersCount",
    "FriendsCount",
    "LikesCount",
    "Verified",
    "Kloutscore",
    "TotalStatusesCount",
    "ApiKey",
)

IDENTITY_FIELDS = ("Uid", "UserName", "PhoneId", "Password", "Email")
STATE_FLAGS = (
    "EmailVerified",
    "PhoneIdVerified",
    "IsActive",
    "IsLoginLocked",
    "IsDeleted",
    "IsEmailSubscribed",
)
STRUCTURED = (
    "Country",
    "CustomFields",
    "PrivacyPolicy",
    "AcceptPrivacyPolicy",
    "SecurityQuestionAnswer",
    "PINInfo",
    "Consents",
    "RegistrationSource",
    "RegistrationProvider",
    "SessionLimit",
)

WRITABLE = (
    *IDENTITY_FIELDS,
    *NAME_COLUMNS,
    *PROFILE_STRINGS,
    *PROFILE_ARRAYS,
    *PROFILE_FLAGS,
    *STATE_FLAGS,
    *STRUCTURED,
)
KNOWN = {name.lower(): name for name in (*WRITABLE, *READ_ONLY)}
WRITABLE_SET = frozenset(WRITABLE)

CUSTOM_UID_RE = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
USERNAME_RE = re.compile(r"^[^\s<>\"']{1,100}$")
EMAIL_MAX_LENGTH = 254
EMAIL_TYPE_MAX_LENGTH = 40
