import re

import pytest
from django.contrib.auth.hashers import check_password

from accounts import services
from accounts.api import profile_body
from accounts.commands import EmailUpsert, IdentityLink
from accounts.models import Account, AccountEmail
from portal.models import AuditEvent
from security import services as security_services
from security.commands import AccountLock
from tests.accounts.conftest import GOOD_PASSWORD, A, assert_error, state
from tests.factories import ApiCredentialFactory

pytestmark = pytest.mark.django_db

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def create(lr, email="ann@example.com", **extra):
    body = {"Email": [{"Type": "Primary", "Value": email}], "Password": GOOD_PASSWORD, **extra}
    response = lr.post(A, body)
    assert response.status_code == 200, response.json()
    return response.json()


# ---------------------------------------------------------------- create


def test_create_returns_the_full_profile(lr, tenant):
    body = create(
        lr,
        FirstName="Ann",
        LastName="Lee",
        UserName="annlee",
        PhoneId="+14155552671",
        BirthDate="10-12-1985",
        Country={"Code": "FR", "Name": "France"},
        CustomFields={"tier": "gold"},
        EmailVerified=True,
    )
    assert re.fullmatch(r"[0-9a-f]{32}", body["Uid"]) and re.fullmatch(r"[0-9a-f]{32}", body["ID"])
    assert body["Email"] == [{"Type": "Primary", "Value": "ann@example.com"}]
    assert (
        body["FullName"] == "Ann Lee"
        and body["UserName"] == "annlee"
        and body["PhoneId"] == "+14155552671"
    )
    assert body["EmailVerified"] is True and body["PhoneIdVerified"] is False
    assert (
        body["IsActive"] is True and body["IsDeleted"] is False and body["IsLoginLocked"] is False
    )
    assert body["LoginLockedType"] is None and body["IsCustomUid"] is False
    assert body["Country"] == {"Code": "FR", "Name": "France"} and body["CustomFields"] == {
        "tier": "gold"
    }
    assert body["BirthDate"] == "10-12-1985" and body["Provider"] == "Email"
    for key in ("SignupDate", "CreatedDate", "ModifiedDate", "LastPasswordChangeDate"):
        assert DATE.match(body[key]), (key, body[key])
    account = Account.objects.get(uid=body["Uid"])
    assert body["Password"] is None and check_password(
        GOOD_PASSWORD, account.password
    )  # the hash is never returned
    for key in (
        "Prefix",
        "Suffix",
        "NickName",
        "Website",
        "Positions",
        "Educations",
        "Identities",
        "Roles",
        "LastLoginDate",
    ):
        assert key in body and body[key] is None, key
    assert body["NoOfLogins"] == 0


def test_create_fields_projection_and_case_insensitive_keys(lr):
    response = lr.post(
        A,
        {"email": [{"type": "Primary", "value": "x@example.com"}], "firstname": "X"},
        params={"fields": "Uid,Email,FirstName"},
    )
    assert set(response.json()) == {"Uid", "Email", "FirstName"}
    assert response.json()["FirstName"] == "X"


def test_create_with_custom_uid(lr):
    body = create(lr, Uid="my_custom-1")
    assert body["Uid"] == "my_custom-1" and body["IsCustomUid"] is True


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"Email": [{"Type": "Primary", "Value": "bad"}]}, 1038),
        ({"Email": [{"Type": "Primary", "Value": "a@example.com"}], "PhoneId": "abc"}, 1096),
        ({"Email": [{"Type": "Primary", "Value": "a@example.com"}], "Uid": "not valid!"}, 1200),
        (
            {"Email": [{"Type": "Primary", "Value": "a@example.com"}], "BirthDate": "31-12-1990"},
            968,
        ),
        ({"Email": [{"Value": "a@example.com"}]}, 1201),
        (
            {
                "Email": [
                    {"Type": "Primary", "Value": "a@example.com"},
                    {"Type": "Secondary", "Value": "a@example.com"},
                ]
            },
            1202,
        ),
        (
            {
                "Email": [
                    {"Type": "Primary", "Value": "a@example.com"},
                    {"Type": "Primary", "Value": "b@example.com"},
                ]
            },
            1203,
        ),
        (
            {
                "Email": [{"Type": "Primary", "Value": "a@example.com"}],
                "Addresses": [{"City": "x"}],
            },
            1125,
        ),
        (
            {
                "Email": [{"Type": "Primary", "Value": "a@example.com"}],
                "Addresses": [{"Type": "H"}, {"Type": "H"}],
            },
            1107,
        ),
        ({"FirstName": "No identifier"}, 908),
        ({"Email": [{"Type": "Primary", "Value": "a@example.com"}], "Password": "123"}, 1134),
        ({"Email": "a@example.com"}, 1134),
    ],
)
def test_create_errors_change_nothing(lr, tenant, body, code):
    before = state(tenant)
    assert_error(lr.post(A, body), code, 400 if code != 908 else None)
    assert state(tenant) == before


def test_create_unknown_field_is_named(lr, tenant):
    body = assert_error(
        lr.post(A, {"Email": [{"Type": "Primary", "Value": "a@example.com"}], "Favourite": "x"}),
        1134,
        400,
    )
    assert body["Errors"] == [
        {
            "FieldName": "Favourite",
            "ErrorMessage": "The field Favourite is not a known profile field.",
        }
    ]
    assert not Account.objects.filter(tenant=tenant).exists()


def test_create_weak_password_answers_errors(lr):
    body = assert_error(
        lr.post(
            A, {"Email": [{"Type": "Primary", "Value": "a@example.com"}], "Password": "password"}
        ),
        1134,
    )
    assert body["Errors"] and all(e["FieldName"] == "Password" for e in body["Errors"])


def test_create_malformed_body_and_non_object(lr, tenant):
    response = lr.client.post(
        f"{A}?apikey={tenant.api_key}",
        data="{nope",
        content_type="application/json",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
    )
    assert_error(response, 965, 400)
    assert_error(lr.post(A, [1, 2]), 965)


def test_create_duplicates(lr, tenant):
    create(lr, "dup@example.com", UserName="Dup", PhoneId="+14155552671", Uid="dupuid")
    before = state(tenant)
    assert_error(lr.post(A, {"Email": [{"Type": "Primary", "Value": "DUP@example.com"}]}), 936, 400)
    assert_error(lr.post(A, {"UserName": "dUP"}), 1017, 400)
    assert_error(lr.post(A, {"PhoneId": "+1 (415) 555-2671"}), 1058, 400)
    assert_error(lr.post(A, {"UserName": "other", "Uid": "dupuid"}), 1044, 400)
    assert state(tenant) == before


def test_html_is_stored_inert(lr):
    body = create(lr, FirstName="<script>alert(1)</script>", About="<img src=x onerror=alert(1)>")
    response = lr.get(f"{A}/{body['Uid']}")
    assert response.json()["FirstName"] == "<script>alert(1)</script>"
    assert response["Content-Type"].startswith("application/json")
    assert b"<script>" in response.content  # inside a JSON string, never rendered as HTML


# ---------------------------------------------------------------- get


def test_get_by_email_username_phone_q_and_uid(lr):
    body = create(lr, "a+b@example.com", UserName="Ann.Lee", PhoneId="+14155552671")
    uid = body["Uid"]
    assert lr.get(A, {"email": "A+B@example.com"}).json()["Uid"] == uid
    # The v11 Python SDK does not URL-encode: '+' arrives as a space.
    raw = lr.client.get(
        f"{A}?apikey={lr.credential.tenant.api_key}&email=a+b@example.com",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
    )
    assert raw.json()["Uid"] == uid
    assert lr.get(A, {"userName": "ann.lee"}).json()["Uid"] == uid
    assert lr.get(A, {"username": "ANN.LEE"}).json()["Uid"] == uid
    assert lr.get(A, {"phone": "+14155552671"}).json()["Uid"] == uid
    for q in (
        "email:a+b@example.com",
        "username:ann.lee",
        "phoneid:+14155552671",
        f"uid:{uid}",
        f"id:{body['ID']}",
    ):
        assert lr.get(A, {"q": q}).json()["Uid"] == uid, q
    response = lr.get(f"{A}/{uid}", {"fields": "Uid,Email/Value"})
    assert response.json() == {"Uid": uid, "Email": [{"Value": "a+b@example.com"}]}


def test_get_errors(lr, lr_other):
    body = create(lr)
    assert_error(lr.get(A), 908, 400)
    assert_error(lr.get(A, {"email": "nobody@example.com"}), 938, 403)
    assert_error(lr.get(A, {"email": "not-an-email"}), 1038)
    assert_error(lr.get(A, {"phone": "12"}), 1096)
    assert_error(lr.get(A, {"username": "ghost"}), 938)
    assert_error(lr.get(A, {"q": "nocolon"}), 1134)
    assert_error(lr.get(A, {"q": "gender:f"}), 1134)
    assert_error(lr.get(f"{A}/{'0' * 32}"), 938, 403)
    # Another tenant's UID is simply not found.
    assert_error(lr_other.get(f"{A}/{body['Uid']}"), 938)
    assert_error(lr_other.get(A, {"email": "ann@example.com"}), 938)


def test_paths_are_case_insensitive(lr):
    uid = create(lr)["Uid"]
    assert lr.get(f"/Identity/V2/Manage/Account/{uid}").status_code == 200
    assert lr.get(f"/identity/v2/manage/account/{uid}/PrivacyPolicy/History").status_code == 200


# ---------------------------------------------------------------- update


def test_update_profile_flags_and_null_support(lr, tenant):
    uid = create(lr, FirstName="Ann", Gender="F", Addresses=[{"Type": "Home", "City": "Paris"}])[
        "Uid"
    ]
    response = lr.put(
        f"{A}/{uid}",
        {"lastname": "Lee", "Gender": None, "Addresses": [{"Type": "Home", "op": "delete"}]},
    )
    body = response.json()
    assert body["LastName"] == "Lee" and body["Gender"] == "F" and body["Addresses"] is None
    body = lr.put(f"{A}/{uid}", {"Gender": None}, params={"nullSupport": "True"}).json()
    assert body["Gender"] is None
    body = lr.put(
        f"{A}/{uid}",
        {"EmailVerified": True, "UserName": "newname"},
        params={"fields": "EmailVerified,UserName"},
    ).json()
    assert body == {"EmailVerified": True, "UserName": "newname"}
    body = lr.put(f"{A}/{uid}", {"IsActive": False}).json()
    assert body["IsActive"] is False
    assert AuditEvent.objects.filter(action="account.updated", subject_uid=uid).count() == 4


def test_update_unlock_via_is_login_locked_false(lr, tenant, actor):
    uid = create(lr)["Uid"]
    account = Account.objects.get(uid=uid)
    security_services.account_lock(
        AccountLock(locked_type="LoginAttempts"), tenant=tenant, actor=actor, account=account
    )
    assert lr.get(f"{A}/{uid}").json()["IsLoginLocked"] is True
    assert lr.get(f"{A}/{uid}").json()["LoginLockedType"] == "LoginAttempts"
    body = lr.put(f"{A}/{uid}", {"IsLoginLocked": False}).json()
    assert body["IsLoginLocked"] is False and body["LoginLockedType"] is None


def test_update_phone_verified_flag(lr):
    uid = create(lr, PhoneId="+14155552671")["Uid"]
    assert lr.put(f"{A}/{uid}", {"PhoneIdVerified": True}).json()["PhoneIdVerified"] is True


def test_update_errors_change_nothing(lr, tenant):
    create(lr, "other@example.com", UserName="taken", PhoneId="+14155552671")
    uid = create(lr)["Uid"]
    before = state(tenant)
    assert_error(lr.put(f"{A}/{uid}", {"Password": "NewPassword-123"}), 1134)
    # A key the profile does not know is ignored (refused only with strict keys).
    assert lr.put(f"{A}/{uid}", {"unknownthing": 1}).status_code == 200
    assert_error(lr.put(f"{A}/{uid}", {"UserName": "TAKEN"}), 1017)
    assert_error(lr.put(f"{A}/{uid}", {"PhoneId": "14155552671"}), 1058)
    assert_error(lr.put(f"{A}/{uid}", {"PhoneId": "555"}), 1096)
    assert_error(
        lr.put(f"{A}/{uid}", {"Email": [{"Type": "Secondary", "Value": "other@example.com"}]}), 936
    )
    assert_error(
        lr.put(f"{A}/{uid}", {"Email": [{"Value": "ann@example.com", "op": "delete"}]}), 1005
    )
    assert_error(lr.put(f"{A}/{uid}", {"BirthDate": "2020/01/01"}), 968)
    assert_error(lr.put(f"{A}/{uid}", {"IsActive": "maybe"}), 1134)
    assert_error(lr.put(f"{A}/{'f' * 32}", {"FirstName": "x"}), 938)
    response = lr.client.put(
        f"{A}/{uid}?apikey={tenant.api_key}",
        data="[",
        content_type="application/json",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
    )
    assert_error(response, 1079)
    assert state(tenant) == before


# ---------------------------------------------------------------- delete


def test_delete_by_uid(lr, tenant):
    uid = create(lr)["Uid"]
    assert lr.delete(f"{A}/{uid}").json() == {"IsDeleted": True, "RecordsDeleted": 1}
    assert not Account.objects.filter(uid=uid).exists()
    assert_error(lr.delete(f"{A}/{uid}"), 938)
    assert AuditEvent.objects.get(action="account.deleted", subject_uid=uid).diff == {}


def test_delete_by_email(lr, tenant, actor):
    uid = create(lr, "gone@example.com")["Uid"]
    keep = create(lr, "keep@example.com")["Uid"]
    services.account_identity_link(
        IdentityLink(
            provider="google",
            provider_id="1",
            emails=profile_body.identity_emails_read(["other@example.com"]),
        ),
        tenant=tenant,
        actor=actor,
        account=Account.objects.get(uid=keep),
    )
    assert lr.delete(A, params={"email": "GONE@example.com"}).json() == {
        "IsDeleted": True,
        "RecordsDeleted": 1,
    }
    assert (
        not Account.objects.filter(uid=uid).exists() and Account.objects.filter(uid=keep).exists()
    )
    assert_error(lr.delete(A, params={"email": "gone@example.com"}), 938)
    assert_error(lr.delete(A), 908)


# ---------------------------------------------------------------- emails and phone


def test_email_upsert_and_remove(lr):
    uid = create(lr)["Uid"]
    body = lr.put(
        f"{A}/{uid}/email", {"Email": [{"Type": "Secondary", "Value": "b@example.com"}]}
    ).json()
    assert body["Email"] == [
        {"Type": "Primary", "Value": "ann@example.com"},
        {"Type": "Secondary", "Value": "b@example.com"},
    ]
    body = lr.put(
        f"{A}/{uid}/email",
        {"Email": [{"Type": "Primary", "Value": "new@example.com"}]},
        params={"fields": "Email"},
    ).json()
    assert body == {
        "Email": [
            {"Type": "Primary", "Value": "new@example.com"},
            {"Type": "Secondary", "Value": "b@example.com"},
        ]
    }
    body = lr.delete(f"{A}/{uid}/email", {"email": "B@example.com"}).json()
    assert body["Email"] == [{"Type": "Primary", "Value": "new@example.com"}]


def test_email_endpoint_errors(lr, tenant):
    create(lr, "other@example.com")
    uid = create(lr)["Uid"]
    before = state(tenant)
    assert_error(lr.put(f"{A}/{uid}/email", {}), 908)
    assert_error(lr.put(f"{A}/{uid}/email", {"Email": [{"Type": "Secondary", "Value": "x"}]}), 1038)
    assert_error(
        lr.put(
            f"{A}/{uid}/email", {"Email": [{"Type": "Secondary", "Value": "OTHER@example.com"}]}
        ),
        936,
    )
    assert_error(lr.put(f"{A}/{uid}/email", {"Email": [{"Value": "z@example.com"}]}), 1201)
    assert_error(lr.delete(f"{A}/{uid}/email", {"email": "ann@example.com"}), 1005)
    assert_error(lr.delete(f"{A}/{uid}/email", {"email": "nope@example.com"}), 1340)
    assert_error(lr.delete(f"{A}/{uid}/email", {}), 908)
    assert_error(lr.delete(f"{A}/{uid}/email", {"email": "bad"}), 1038)
    assert_error(
        lr.put(
            f"{A}/{'a' * 32}/email", {"Email": [{"Type": "Secondary", "Value": "q@example.com"}]}
        ),
        938,
    )
    assert state(tenant) == before


def test_phone_update(lr, tenant):
    create(lr, "other@example.com", PhoneId="+14155552671")
    uid = create(lr)["Uid"]
    assert (
        lr.put(f"{A}/{uid}/phoneid", {"phone": "+44 20 7183 8750"}).json()["PhoneId"]
        == "+442071838750"
    )
    assert lr.put(
        f"{A}/{uid}/phoneid", {"Phone": "+33142685300"}, params={"fields": "PhoneId"}
    ).json() == {"PhoneId": "+33142685300"}
    before = state(tenant)
    assert_error(lr.put(f"{A}/{uid}/phoneid", {"phone": "+14155552671"}), 1058)
    assert_error(lr.put(f"{A}/{uid}/phoneid", {"phone": "xyz"}), 1096)
    assert_error(lr.put(f"{A}/{uid}/phoneid", {}), 908)
    assert state(tenant) == before


# ---------------------------------------------------------------- password


def test_password_get_and_set(lr, tenant):
    uid = create(lr)["Uid"]
    account = Account.objects.get(uid=uid)
    assert lr.get(f"{A}/{uid}/password").json() == {"PasswordHash": account.password}
    response = lr.put(f"{A}/{uid}/password", {"password": "A-brand-new-pass-9"})
    account.refresh_from_db()
    assert response.json() == {"PasswordHash": account.password}
    assert check_password("A-brand-new-pass-9", account.password)
    before = state(tenant)
    body = assert_error(lr.put(f"{A}/{uid}/password", {"password": "abc"}), 1134)
    assert body["Errors"][0]["FieldName"] == "Password"
    assert_error(lr.put(f"{A}/{uid}/password", {}), 908)
    assert_error(lr.get(f"{A}/{'b' * 32}/password"), 938)
    assert state(tenant) == before


# ---------------------------------------------------------------- security answers


def test_security_answers_sent_with_a_profile_go_to_the_security_section(lr, tenant):
    from security.services import security_answers_verify

    uid = create(lr, SecurityQuestionAnswer={"q1": "Blue"})["Uid"]
    account = Account.objects.get(uid=uid)
    assert security_answers_verify(account=account, answers={"q1": "blue"})
    assert lr.put(f"{A}/{uid}", {"securityquestionanswer": {"q1": "Green"}}).status_code == 200
    assert security_answers_verify(account=account, answers={"q1": "green"})
    assert "Blue" not in str(Account.objects.get(pk=account.pk).profile)
    assert list(
        AuditEvent.objects.filter(
            subject_uid=uid,
            action__in=["account.created", "account.updated", "security_answers.updated"],
        )
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "account.created",
        "security_answers.updated",
        # The body changes nothing of the account itself: no account.updated.
        "security_answers.updated",
    ]


def test_refused_security_answers_leave_nothing_changed(lr, tenant):
    uid = create(lr)["Uid"]
    before = state(tenant)
    assert_error(
        lr.put(f"{A}/{uid}", {"FirstName": "Changed", "SecurityQuestionAnswer": {"q1": " "}}),
        1134,
        400,
    )
    assert_error(
        lr.post(
            A,
            {
                "Email": [{"Type": "Primary", "Value": "new@example.com"}],
                "SecurityQuestionAnswer": {"q1": ""},
            },
        ),
        1134,
        400,
    )
    assert state(tenant) == before


# ---------------------------------------------------------------- invalidate


def test_invalidate_email_queues_verification(lr, tenant, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "tokens.services.multipurpose.verification_email_send",
        lambda command, **kw: sent.append(command),
    )
    uid = create(lr, EmailVerified=True)["Uid"]
    response = lr.put(
        f"{A}/{uid}/invalidateemail",
        params={"emailTemplate": "welcome", "verificationUrl": "https://x.test/v"},
    )
    assert response.json() == {"IsPosted": True}
    assert sent[0].email == "ann@example.com" and sent[0].template == "welcome"
    assert sent[0].verification_url == "https://x.test/v"
    assert lr.get(f"{A}/{uid}").json()["EmailVerified"] is False
    assert_error(lr.put(f"{A}/{uid}/invalidateemail"), 1115)
    phone_only = lr.post(A, {"PhoneId": "+14155552671"}).json()["Uid"]
    assert_error(lr.put(f"{A}/{phone_only}/invalidateemail"), 1113)
    assert len(sent) == 1


def test_invalidate_phone_queues_otp(lr, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "tokens.services.multipurpose.phone_verification_send",
        lambda command, **kw: sent.append(command),
    )
    uid = create(lr, PhoneId="+14155552671", PhoneIdVerified=True)["Uid"]
    response = lr.put(
        f"{A}/{uid}/invalidatephone", params={"smsTemplate": "otp", "isVoiceOtp": "True"}
    )
    assert response.json() == {"IsPosted": True}
    assert sent[0].template == "otp" and sent[0].voice is True
    assert lr.get(f"{A}/{uid}").json()["PhoneIdVerified"] is False
    assert_error(lr.put(f"{A}/{uid}/invalidatephone"), 1161)
    no_phone = create(lr, "np@example.com")["Uid"]
    assert_error(lr.put(f"{A}/{no_phone}/invalidatephone"), 1147)
    assert len(sent) == 1


# ---------------------------------------------------------------- identities, history, consents, uid, sott


def test_identities_by_email(lr, tenant, actor):
    own = create(lr, "shared@example.com")["Uid"]
    linked = create(lr, "mine@example.com")["Uid"]
    services.account_identity_link(
        IdentityLink(
            provider="google",
            provider_id="g-1",
            emails=profile_body.identity_emails_read(["Shared@Example.com"]),
            profile={"FirstName": "G"},
        ),
        tenant=tenant,
        actor=actor,
        account=Account.objects.get(uid=linked),
    )
    body = lr.get(f"{A}/identities", {"email": "shared@example.com"}).json()
    assert sorted(p["Uid"] for p in body["Data"]) == sorted([own, linked])
    identity = next(p for p in body["Data"] if p["Uid"] == linked)["Identities"][0]
    assert (
        identity["Provider"] == "google"
        and identity["ID"] == "g-1"
        and identity["FirstName"] == "G"
    )
    body = lr.get(f"{A}/identities", {"email": "shared@example.com", "fields": "Uid"}).json()
    assert all(set(p) == {"Uid"} for p in body["Data"])
    assert lr.get(f"{A}/identities", {"email": "none@example.com"}).json() == {"Data": []}
    assert_error(lr.get(f"{A}/identities"), 908)


def test_privacy_policy_history_and_consent_logs(lr):
    uid = create(
        lr,
        PrivacyPolicy={"Version": "v1"},
        Consents={
            "Data": [{"ConsentOptionId": "news", "IsAccepted": True}],
            "Events": [{"Event": "Register", "IsCustom": False}],
        },
    )["Uid"]
    lr.put(f"{A}/{uid}", {"PrivacyPolicy": {"Version": "v2"}})
    history = lr.get(f"{A}/{uid}/privacypolicy/history").json()
    assert history["Uid"] == uid and history["Current"]["Version"] == "v2"
    assert history["Current"]["AcceptSource"] == "API" and DATE.match(
        history["Current"]["AcceptDateTime"]
    )
    assert [h["Version"] for h in history["History"]] == ["v1"]
    assert lr.get(f"{A}/{uid}").json()["PrivacyPolicy"]["Version"] == "v2"
    logs = lr.get(f"{A}/{uid}/consent/logs").json()
    assert logs["Uid"] == uid and len(logs["ConsentLogs"]) == 1
    log = logs["ConsentLogs"][0]
    assert set(log) == {
        "Id",
        "UpdateType",
        "CurrentConsentFormsVersions",
        "LoggedOnDate",
        "UserAgent",
        "IP",
        "Host",
        "ConsentLogs",
    }
    assert log["UpdateType"] == "Register" and log["ConsentLogs"] == [
        {"ConsentId": "news", "Event": "Accepted"}
    ]
    assert log["CurrentConsentFormsVersions"] == [
        {"Event": "Register", "Version": "1", "IsCustom": False}
    ]
    assert_error(lr.get(f"{A}/{'c' * 32}/consent/logs"), 938)
    assert_error(lr.get(f"{A}/{'c' * 32}/privacypolicy/history"), 938)


def test_update_uid_v11(lr, tenant):
    uid = create(lr)["Uid"]
    assert lr.put(f"{A}/uid", {"newUid": "renamed_1"}, params={"uid": uid}).json() == {
        "IsPosted": True
    }
    body = lr.get(f"{A}/renamed_1").json()
    assert body["Uid"] == "renamed_1" and body["PreviousUids"] == [uid]
    other = create(lr, "o@example.com")["Uid"]
    assert_error(lr.put(f"{A}/uid", {"newUid": "renamed_1"}, params={"uid": other}), 1044)
    assert_error(lr.put(f"{A}/uid", {"newUid": "bad uid"}, params={"uid": other}), 1200)
    assert_error(lr.put(f"{A}/uid", {"newUid": "x"}), 908)
    assert_error(lr.put(f"{A}/uid", {"newUid": "x"}, params={"uid": "missing"}), 938)


def test_account_whose_uid_is_literally_uid(lr):
    create(lr, Uid="uid")
    assert lr.get(f"{A}/uid").json()["Uid"] == "uid"
    assert lr.put(f"{A}/uid", {"FirstName": "Lit"}).json()["FirstName"] == "Lit"
    assert lr.delete(f"{A}/uid").json()["IsDeleted"] is True


def test_sott(lr, credential):
    from accounts.sott import sott_read

    body = lr.get(f"{A}/sott", {"timedifference": "20"}).json()
    assert set(body) == {"Sott", "ExpiryTime"} and DATE.match(body["ExpiryTime"])
    _, _, md5 = body["Sott"].partition("*")
    assert re.fullmatch(r"[0-9a-f]{32}", md5)
    key = sott_read(token=body["Sott"], api_secret=credential.raw)[1]
    assert key == credential.tenant.api_key
    assert_error(lr.get(f"{A}/sott", {"timeDifference": "abc"}), 1134)
    assert_error(lr.get(f"{A}/sott", {"timedifference": "0"}), 1134)


def test_sott_matches_the_sdk_algorithm(credential):
    from datetime import datetime

    from LoginRadius import LoginRadius as LR

    from accounts.sott import sott_make

    start, end = datetime(2026, 1, 2, 15, 4, 5), datetime(2026, 1, 2, 15, 14, 5)
    LR.API_KEY, LR.API_SECRET = credential.tenant.api_key, credential.raw
    sdk = LR()
    expected = sdk.get_sott(
        startTime=start.strftime("%Y/%m/%d %I:%M:%S"), endTime=end.strftime("%Y/%m/%d %I:%M:%S")
    )
    assert (
        sott_make(
            api_key=credential.tenant.api_key, api_secret=credential.raw, start=start, end=end
        )
        == expected
    )


# ---------------------------------------------------------------- credentials and scopes


def test_credential_without_accounts_scope_is_refused(tenant):
    from tests.conftest import LRClient

    scoped = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["roles"]))
    assert_error(scoped.get(A, {"email": "a@example.com"}), 1143)
    assert_error(scoped.post(A, {"UserName": "x"}), 1143)
    assert not Account.objects.filter(tenant=tenant).exists()


# ---------------------------------------------------------------- query counts


def test_get_by_uid_query_count_is_fixed(lr, tenant, actor, django_assert_max_num_queries):
    uid = create(lr, Addresses=[{"Type": "Home"}])["Uid"]
    account = Account.objects.get(uid=uid)
    for i in range(3):
        services.account_email_upsert(
            EmailUpsert(
                emails=profile_body.email_addresses_read(
                    [{"Type": f"T{i}", "Value": f"t{i}@example.com"}]
                )
            ),
            tenant=tenant,
            actor=actor,
            account=account,
        )
        services.account_identity_link(
            IdentityLink(provider="google", provider_id=str(i)),
            tenant=tenant,
            actor=actor,
            account=account,
        )
    lr.get(f"{A}/{uid}")  # warm the credential's last-used stamp
    with django_assert_max_num_queries(5):
        response = lr.get(f"{A}/{uid}")
    assert len(response.json()["Email"]) == 4 and len(response.json()["Identities"]) == 3


def test_create_query_count_is_fixed(lr, django_assert_max_num_queries):
    lr.get(A, {"email": "warm@example.com"})
    emails = [
        {"Type": "Primary", "Value": "q@example.com"},
        {"Type": "Secondary", "Value": "q2@example.com"},
    ]
    with django_assert_max_num_queries(15):
        response = lr.post(
            A,
            {
                "Email": emails,
                "Password": GOOD_PASSWORD,
                "FirstName": "Q",
                "PhoneId": "+14155552671",
            },
        )
    assert response.status_code == 200
    assert AccountEmail.objects.filter(account__uid=response.json()["Uid"]).count() == 2


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "body",
    [
        {"UserName": "nul", "FirstName": "a\u0000b"},
        {"UserName": "nul", "CustomFields": {"k\u0000": "v"}},
        {"UserName": "nul", "Addresses": [{"Type": "Home", "City": "\u0000"}]},
        {"Email": [{"Type": "Pri\u0000mary", "Value": "n@example.com"}]},
    ],
)
def test_nul_characters_are_refused_not_500(lr, tenant, body):
    before = state(tenant)
    response = lr.post(A, body)
    assert response.status_code == 400 and response.json()["ErrorCode"] in (1134, 1038), (
        response.json()
    )
    assert state(tenant) == before


def test_nul_in_lookups_is_not_found(lr):
    uid = create(lr)["Uid"]
    assert_error(lr.get(A, {"username": "a\u0000"}), 938)
    assert_error(lr.get(A, {"email": "a\u0000@example.com"}), 1038)
    assert_error(lr.get(f"{A}/{uid}%00"), 938)
    assert lr.get("/api/v1/accounts", {"search": "a\u0000"}).json()["code"] == "input.invalid"
    assert_error(
        lr.put(f"{A}/{uid}/email", {"Email": [{"Type": "T\u0000", "Value": "t@example.com"}]}), 1134
    )


def test_wrong_json_types_are_field_errors(lr, tenant):
    uid = create(lr)["Uid"]
    before = state(tenant)
    for body in (
        {"CustomFields": "x"},
        {"CustomFields": {"a": {"nested": 1}}},
        {"Addresses": {"Type": "Home"}},
        {"Addresses": [1, [2]]},
        {"Country": 5},
        {"PrivacyPolicy": "v1"},
        {"Consents": []},
        {"SessionLimit": -1},
        {"EmailVerified": "yes"},
        {"FirstName": "x" * 101},
        {"Email": [1]},
    ):
        response = lr.put(f"{A}/{uid}", body)
        assert response.status_code == 400 and response.json()["ErrorCode"] == 1134, (
            body,
            response.json(),
        )
    assert state(tenant) == before


@pytest.mark.parametrize(
    "raw",
    [
        '{"UserName":"z","Addresses":[{"Type":"H","n":NaN}]}',
        '{"UserName":"z","CustomFields":{"n":Infinity}}',
        '{"UserName":"z","Addresses":[{"Type":"H","n":' + "[" * 50 + "]" * 50 + "}]}",
    ],
)
def test_unstorable_json_values_are_refused(lr, tenant, raw):
    response = lr.client.post(
        f"{A}?apikey={tenant.api_key}",
        data=raw,
        content_type="application/json",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
    )
    assert_error(response, 1134, 400)
    assert not Account.objects.filter(tenant=tenant).exists()


def test_long_lookup_values_are_answered(lr):
    assert_error(lr.get(A, {"username": "x" * 10000}), 938)
    assert lr.get("/api/v1/accounts", {"search": "x" * 10000}).json()["code"] == "input.invalid"


def test_overlong_identifiers_are_refused(lr, tenant):
    long_email = "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "com"
    assert_error(lr.post(A, {"Email": [{"Type": "Primary", "Value": long_email}]}), 1038)
    assert_error(lr.post(A, {"Email": [{"Type": "T" * 41, "Value": "ok@example.com"}]}), 1134)
    assert_error(lr.post(A, {"UserName": "u" * 101}), 1134)
    assert_error(lr.post(A, {"Uid": "u" * 51, "UserName": "ok"}), 1200)
    assert_error(lr.post(A, {"PhoneId": "+1" + "2" * 30}), 1096)
    assert not Account.objects.filter(tenant=tenant).exists()


def test_email_recased_under_the_same_type_stays_verified(lr):
    uid = create(lr, EmailVerified=True)["Uid"]
    lr.put(f"{A}/{uid}/email", {"Email": [{"Type": "Primary", "Value": "Ann@Example.com"}]})
    row = AccountEmail.objects.get(account__uid=uid)
    assert row.value == "Ann@Example.com" and row.verified
    lr.put(f"{A}/{uid}/email", {"Email": [{"Type": "Primary", "Value": "other@example.com"}]})
    assert not AccountEmail.objects.get(account__uid=uid).verified
