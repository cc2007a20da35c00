"""The bare floor: Django views with no middleware (bench.bare_settings), raw SQL on the
project's database through Django's connection, nothing of the project imported.

- `account/<uid>`: one indexed read of the account row, answered with a profile JSON of
  the project's shape (its 126 keys, built from the row) so rendering and sending cost
  what the project's answer costs;
- `token`: one indexed read of an access token by its hash (a bare one-read floor);
- `rotate`: one transaction that locks the old refresh token, marks it rotated, inserts
  its successor and one event row.

The benchmark serves these with gunicorn next to the project (same worker count, same
PostgreSQL) and divides the project's throughput by theirs.
"""

import functools
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import path

# The profile's keys, in the project's order (accounts.selectors.account_profile); a test
# compares them with the project's answer.
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
STORED = (
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
    "Addresses",
    "PhoneNumbers",
    "Languages",
    "PlacesLived",
    "ExternalIds",
    "Positions",
    "Educations",
    "IMAccounts",
    "Interests",
    "Skills",
    "Books",
    "Certifications",
    "Courses",
    "Movies",
    "Sports",
    "Games",
    "Television",
    "FavoriteThings",
    "Family",
    "Patents",
    "Publications",
    "Recommendations",
    "RecommendationsReceived",
    "Associations",
    "Awards",
    "Badges",
    "Honors",
    "HonorsAndAwards",
    "Volunteer",
    "MutualFriends",
    "Jobbookmarks",
    "Suggestions",
    "Projects",
    "Inspirations",
    "Memberships",
    "IsTwoFactorAuthenticationEnabled",
    "DisableLogin",
    "IsProtected",
    "IsGeoEnabled",
)
COLUMNS = (
    "uid",
    "provider_id",
    "registration_provider",
    "email_verified",
    "username",
    "phone_id",
    "phone_id_verified",
    "first_name",
    "middle_name",
    "last_name",
    "profile",
    "custom_fields",
    "is_active",
    "is_custom_uid",
    "is_email_subscribed",
    "last_password_change_date",
    "no_of_logins",
    "signup_date",
    "last_login_date",
    "last_login_location",
    "registration_source",
    "created",
    "modified",
)
# Read when the account table has them; a schema keeping the sign-in lock elsewhere answers
# the lock as off (the floor reads one row).
LOCK_COLUMNS = ("is_login_locked", "login_locked_type", "login_locked_until")
TOKEN_SQL = "SELECT expires_at, revoked_at FROM tokens_accesstoken WHERE token_hash = %s"
LOCK_SQL = (
    "SELECT id, tenant_id, account_id, family_id, expires_at FROM tokens_refreshtoken "
    "WHERE token_hash = %s"
)
ROTATED_SQL = "UPDATE tokens_refreshtoken SET rotated_at = %s WHERE id = %s"
SUCCESSOR_SQL = (
    "INSERT INTO tokens_refreshtoken (token_hash, created, expires_at, successor_encrypted, "
    "account_id, tenant_id, family_id) VALUES (%s, %s, %s, '', %s, %s, %s)"
)
EVENT_COLUMNS = (
    "occurred_at",
    "action",
    "actor_type",
    "actor_id",
    "actor_label",
    "subject_uid",
    "reason",
    "ticket",
    "diff",
    "request_id",
    "ip",
    "user_agent",
    "tenant_id",
    "schema_version",
)
# Columns some schemas add to the event table, with the value a rotation writes there.
EVENT_EXTRA_COLUMNS = {"imported": False, "webhooks_suppressed": False}


@functools.cache
def table_columns(table: str) -> frozenset[str]:
    """The table's column names, read once per process (Django's public introspection)."""
    with connection.cursor() as cursor:
        return frozenset(
            column.name for column in connection.introspection.get_table_description(cursor, table)
        )


@functools.cache
def account_sql() -> tuple[str, tuple[str, ...]]:
    present = table_columns("accounts_account")
    columns = COLUMNS + tuple(c for c in LOCK_COLUMNS if c in present)
    sql = f"SELECT {', '.join(columns)} FROM accounts_account WHERE tenant_id = %s AND uid = %s"  # noqa: S608 (constant column names)
    return sql, columns


@functools.cache
def event_sql() -> tuple[str, tuple]:
    """The event INSERT and the constant values of the extra columns the table has."""
    present = table_columns("portal_auditevent")
    extra = {k: v for k, v in EVENT_EXTRA_COLUMNS.items() if k in present}
    columns = (*EVENT_COLUMNS, *extra)
    sql = (
        f"INSERT INTO portal_auditevent ({', '.join(columns)}) "  # noqa: S608 (constant column names)
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    return sql, tuple(extra.values())


def answer(body: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, separators=(",", ":")), status=status, content_type="application/json"
    )


def aware(value: datetime) -> datetime:
    """A timestamp as UTC: SQLite (the test suite's default) hands over naive UTC ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def lr_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = aware(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def as_json(value):
    """A jsonb column: Django's PostgreSQL connection hands it over as text, SQLite too."""
    return json.loads(value) if isinstance(value, str) else value


def profile_of(row: dict) -> dict:
    """The profile JSON of an account row, with the project's keys and null where the row
    holds nothing (emails and roles live in other tables: the floor reads one row)."""
    stored = as_json(row["profile"]) or {}
    until = row.get("login_locked_until")
    locked = bool(row.get("is_login_locked")) and (
        until is None or aware(until) > datetime.now(UTC)
    )
    full_name = " ".join(x for x in (row["first_name"], row["middle_name"], row["last_name"]) if x)
    data: dict = dict.fromkeys(SOCIAL_NULLS)
    for name in STORED:
        data[name] = stored.get(name)
    data.update(
        {
            "Uid": row["uid"],
            "ID": row["provider_id"],
            "Provider": row["registration_provider"] or "Email",
            "RegistrationProvider": row["registration_provider"] or "Email",
            "Email": None,
            "EmailVerified": bool(row["email_verified"]),
            "UnverifiedEmail": None,
            "UserName": row["username"],
            "PhoneId": row["phone_id"],
            "PhoneIdVerified": bool(row["phone_id_verified"]),
            "FirstName": row["first_name"] or None,
            "MiddleName": row["middle_name"] or None,
            "LastName": row["last_name"] or None,
            "FullName": full_name or None,
            "Country": stored.get("Country"),
            "CustomFields": as_json(row["custom_fields"]) or None,
            "Roles": None,
            "PrivacyPolicy": stored.get("PrivacyPolicy"),
            "IsActive": bool(row["is_active"]),
            "IsDeleted": False,
            "IsLoginLocked": locked,
            "LoginLockedType": (row.get("login_locked_type") or None) if locked else None,
            "IsCustomUid": bool(row["is_custom_uid"]),
            "IsEmailSubscribed": bool(row["is_email_subscribed"]),
            "IsPasswordBreached": False,
            "IsSecurePassword": None,
            "Password": None,
            "LastPasswordChangeDate": lr_datetime(row["last_password_change_date"]),
            "PasswordExpirationDate": None,
            "LastPasswordChangeToken": None,
            "PreviousUids": stored.get("PreviousUids"),
            "NoOfLogins": row["no_of_logins"],
            "FirstLogin": row["no_of_logins"] <= 1,
            "PinsCount": 0,
            "SignupDate": lr_datetime(row["signup_date"]),
            "LastLoginDate": lr_datetime(row["last_login_date"]),
            "LastLoginLocation": row["last_login_location"] or None,
            "RegistrationSource": row["registration_source"] or None,
            "SessionLimit": stored.get("SessionLimit"),
            "CreatedDate": lr_datetime(row["created"]),
            "ModifiedDate": lr_datetime(row["modified"]),
            "UpdatedTime": lr_datetime(row["modified"]),
            "Identities": None,
        }
    )
    return data


def _tenant(request) -> int:
    try:
        return int(request.GET.get("t", "0"))
    except ValueError:
        return 0


def account_by_uid(request, uid):
    sql, columns = account_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [_tenant(request), uid])
        row = cursor.fetchone()
    if row is None:
        return answer({}, status=404)
    return answer(profile_of(dict(zip(columns, row, strict=True))))


def token(request):
    """`h`: the token's stored hash (the load computes it; the floor only reads)."""
    hashed = request.GET.get("h", "")
    with connection.cursor() as cursor:
        cursor.execute(TOKEN_SQL, [hashed])
        row = cursor.fetchone()
    if row is None or row[1] is not None:
        return answer({}, status=404)
    return answer({"access_token": hashed[:36], "expires_in": lr_datetime(row[0])})


def rotate(request):
    """`h`: a seeded refresh token's hash, `uid`: its account (the event's subject). The
    token is neither checked nor consumed, so the load can present it again."""
    hashed, uid = request.GET.get("h", ""), request.GET.get("uid", "")
    now = datetime.now(UTC)
    successor = secrets.token_hex(32)
    with transaction.atomic(), connection.cursor() as cursor:
        # SQLite (tests only) has no row locks: its write transaction serialises instead.
        cursor.execute(
            LOCK_SQL + (" FOR UPDATE" if connection.vendor == "postgresql" else ""), [hashed]
        )
        row = cursor.fetchone()
        if row is None:
            return answer({}, status=404)
        pk, tenant_id, account_id, family_id, old_expiry = row
        cursor.execute(ROTATED_SQL, [now, pk])
        new_expiry = now + timedelta(days=60)
        cursor.execute(
            SUCCESSOR_SQL,
            [
                hashlib.sha256(successor.encode()).hexdigest(),
                now,
                new_expiry,
                account_id,
                tenant_id,
                family_id,
            ],
        )
        access_expiry = now + timedelta(hours=1)
        diff = {
            "session": [family_id, family_id],
            "access_expires_at": [None, access_expiry.isoformat()],
            "refresh_expires_at": [aware(old_expiry).isoformat(), new_expiry.isoformat()],
        }
        sql, extra = event_sql()
        cursor.execute(
            sql,
            [
                now,
                "session.refreshed",
                "account",
                uid,
                uid,
                uid,
                "",
                "",
                json.dumps(diff),
                request.headers.get("X-Request-Id", ""),
                request.META.get("REMOTE_ADDR") or None,
                request.headers.get("User-Agent", "")[:400],
                tenant_id,
                1,
                *extra,
            ],
        )
    return answer(
        {
            "access_token": secrets.token_hex(18),
            "refresh_token": successor,
            "expires_in": lr_datetime(access_expiry),
        }
    )


urlpatterns = [
    path("floor/account/<str:uid>", account_by_uid),
    path("floor/token", token),
    path("floor/rotate", rotate),
]
