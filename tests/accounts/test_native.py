from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.api import profile_body
from accounts.commands import AccountBlock, IdentityLink
from accounts.models import Account, AccountIdentity
from portal.audit import Actor
from portal.models import AuditEvent
from security import services as security_services
from security.commands import AccountLock
from tests.accounts.conftest import GOOD_PASSWORD, A, assert_error, state

pytestmark = pytest.mark.django_db

S = "/api/v1/accounts"


@pytest.fixture
def population(tenant, actor, other_tenant):
    def make(email, **extra):
        data = {"Email": [{"Type": "Primary", "Value": email}], "Password": GOOD_PASSWORD, **extra}
        return services.account_create(
            profile_body.account_create_read(data), tenant=tenant, actor=actor
        )

    ann = make(
        "ann.lee@example.com",
        FirstName="Ann",
        LastName="Lee",
        UserName="annl",
        PhoneId="+14155552671",
        EmailVerified=True,
    )
    bob = make("bob@corp.io", FirstName="Bob", LastName="Stone")
    cat = make("cat@corp.io", FirstName="Cat", LastName="Leeds", UserName="Kitty")
    services.account_block(AccountBlock(), tenant=tenant, actor=actor, account=bob)
    security_services.account_lock(
        AccountLock(locked_type="LoginAttempts"), tenant=tenant, actor=actor, account=cat
    )
    services.account_create(
        profile_body.account_create_read(
            {"Email": [{"Type": "Primary", "Value": "ann.lee@other.io"}], "FirstName": "Ann"}
        ),
        tenant=other_tenant,
        actor=actor,
    )
    return {"ann": ann, "bob": bob, "cat": cat}


def uids(response):
    assert response.status_code == 200, response.json()
    return [r["uid"] for r in response.json()["results"]]


def test_search_filters(lr, population):
    ann, bob, cat = population["ann"], population["bob"], population["cat"]
    assert uids(lr.get(S)) == [cat.uid, bob.uid, ann.uid]
    assert lr.get(S).json()["count"] == 3
    assert uids(lr.get(S, {"search": "LEE"})) == [cat.uid, ann.uid]
    assert uids(lr.get(S, {"search": "ann lee"})) == [ann.uid]
    assert uids(lr.get(S, {"search": "corp.io"})) == [cat.uid, bob.uid]
    assert uids(lr.get(S, {"search": "5552671"})) == [ann.uid]
    assert uids(lr.get(S, {"search": "kitty"})) == [cat.uid]
    assert uids(lr.get(S, {"email": "BOB@corp.io"})) == [bob.uid]
    assert uids(lr.get(S, {"phone": "+14155552671"})) == [ann.uid]
    assert uids(lr.get(S, {"phone": "garbage"})) == []
    assert uids(lr.get(S, {"username": "KITTY"})) == [cat.uid]
    assert uids(lr.get(S, {"uid": ann.uid})) == [ann.uid]
    assert uids(lr.get(S, {"blocked": "true"})) == [bob.uid]
    assert uids(lr.get(S, {"blocked": "false"})) == [cat.uid, ann.uid]
    assert uids(lr.get(S, {"locked": "True"})) == [cat.uid]
    assert uids(lr.get(S, {"verified": "true"})) == [ann.uid]
    assert uids(lr.get(S, {"search": "lee", "verified": "false"})) == [cat.uid]


def test_search_created_range(lr, population):
    ann = population["ann"]
    Account.objects.filter(pk=ann.pk).update(created=timezone.now() - timedelta(days=10))
    cutoff = (timezone.now() - timedelta(days=1)).isoformat()
    assert uids(lr.get(S, {"created_before": cutoff})) == [ann.uid]
    assert ann.uid not in uids(lr.get(S, {"created_after": cutoff}))
    assert lr.get(S, {"created_after": "yesterday"}).json()["errors"][0]["field"] == "created_after"


def test_search_result_shape_and_tenant_isolation(lr, lr_other, population):
    ann = population["ann"]
    row = next(r for r in lr.get(S).json()["results"] if r["uid"] == ann.uid)
    assert row["email"] == [{"type": "Primary", "value": "ann.lee@example.com"}]
    assert row["email_verified"] is True and row["phone_id"] == "+14155552671"
    assert row["is_active"] is True and row["is_login_locked"] is False
    assert row["full_name"] == "Ann Lee" and "password" not in row
    assert lr_other.get(S).json()["count"] == 1
    assert uids(lr_other.get(S, {"uid": ann.uid})) == []


def test_search_cursor_pagination_with_exact_count(lr, tenant, actor):
    for i in range(7):
        services.account_create(
            profile_body.account_create_read({"UserName": f"user{i}"}), tenant=tenant, actor=actor
        )
    first = lr.get(S, {"page_size": 3}).json()
    assert first["count"] == 7 and len(first["results"]) == 3 and first["previous"] is None
    seen = [r["uid"] for r in first["results"]]
    next_url = first["next"]
    while next_url:
        page = lr.client.get(next_url, HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw).json()
        assert page["count"] == 7
        seen += [r["uid"] for r in page["results"]]
        next_url = page["next"]
    assert len(seen) == 7 == len(set(seen))
    assert lr.get(S, {"after": "not-a-cursor"}).json()["errors"][0]["field"] == "after"


def test_search_query_count(lr, tenant, actor, django_assert_max_num_queries):
    for i in range(10):
        services.account_create(
            profile_body.account_create_read(
                {"Email": [{"Type": "Primary", "Value": f"p{i}@example.com"}]}
            ),
            tenant=tenant,
            actor=actor,
        )
    lr.get(S, {"search": "example"})  # also reads the common trigrams, cached for hours
    # The credential, the count and the page; on PostgreSQL a substring is planned per
    # value (one SET LOCAL); elsewhere the page's emails, identities and roles are one
    # query each.
    with django_assert_max_num_queries(4 if connection.vendor == "postgresql" else 6):
        response = lr.get(S, {"search": "example"})
    assert response.json()["count"] == 10


# ---------------------------------------------------------------- native identities


def test_identity_link_and_unlink(lr, tenant, actor):
    account = services.account_create(
        profile_body.account_create_read(
            {"Email": [{"Type": "Primary", "Value": "a@example.com"}], "Password": GOOD_PASSWORD}
        ),
        tenant=tenant,
        actor=actor,
    )
    response = lr.post(
        f"{S}/{account.uid}/identities",
        {
            "provider": "Google",
            "provider_id": "g-1",
            "emails": ["g@example.com"],
            "profile": {"FirstName": "G"},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (
        body["provider"] == "google"
        and body["provider_id"] == "g-1"
        and body["emails"] == ["g@example.com"]
    )
    assert body["profile"] == {"FirstName": "G"}
    # Linking again refreshes the same identity.
    assert (
        lr.post(
            f"{S}/{account.uid}/identities", {"provider": "google", "provider_id": "g-1"}
        ).status_code
        == 201
    )
    assert AccountIdentity.objects.filter(account=account).count() == 1
    profile = lr.get(f"{A}/{account.uid}").json()
    assert (
        profile["Identities"][0]["Provider"] == "google" and profile["Identities"][0]["ID"] == "g-1"
    )
    response = lr.delete(f"{S}/{account.uid}/identities/google/g-1")
    assert response.status_code == 204
    assert not AccountIdentity.objects.filter(account=account).exists()
    assert AuditEvent.objects.filter(
        action="account_identity.unlinked", subject_uid=account.uid
    ).exists()


def test_identity_link_errors(lr, lr_other, tenant, actor):
    mine = services.account_create(
        profile_body.account_create_read({"UserName": "mine", "Password": GOOD_PASSWORD}),
        tenant=tenant,
        actor=actor,
    )
    theirs = services.account_create(
        profile_body.account_create_read({"UserName": "theirs", "Password": GOOD_PASSWORD}),
        tenant=tenant,
        actor=actor,
    )
    services.account_identity_link(
        IdentityLink(provider="google", provider_id="x"), tenant=tenant, actor=actor, account=theirs
    )
    before = AccountIdentity.objects.count()

    def answer(response) -> tuple[int, str]:
        return response.status_code, response.json()["code"]

    response = lr.post(f"{S}/{mine.uid}/identities", {"provider": "google", "provider_id": "x"})
    assert answer(response) == (409, "account.identity_taken")
    assert response.json()["errors"][0]["field"] == "provider_id"
    missing = lr.post(f"{S}/{mine.uid}/identities", {"provider_id": "x"})
    assert answer(missing) == (400, "input.invalid")
    missing = lr.post(f"{S}/{mine.uid}/identities", {"provider": "google"})
    assert answer(missing) == (400, "input.invalid")
    bad_email = {"provider": "g", "provider_id": "1", "emails": ["bad"]}
    assert answer(lr.post(f"{S}/{mine.uid}/identities", bad_email)) == (
        400,
        "account.email_invalid",
    )
    unknown = lr.post(f"{S}/{'0' * 32}/identities", {"provider": "g", "provider_id": "1"})
    assert answer(unknown) == (404, "account.not_found")
    foreign = lr_other.post(f"{S}/{mine.uid}/identities", {"provider": "g", "provider_id": "1"})
    assert answer(foreign) == (404, "account.not_found")
    # Someone else's identity cannot be unlinked through my account.
    assert answer(lr.delete(f"{S}/{mine.uid}/identities/google/x")) == (
        404,
        "account.identity_not_linked",
    )
    assert AccountIdentity.objects.count() == before


def test_identity_unlink_refuses_the_last_way_to_sign_in(lr, tenant, actor):
    account = services.account_create(
        profile_body.account_create_read(
            {"Email": [{"Type": "Primary", "Value": "s@example.com"}]}
        ),
        tenant=tenant,
        actor=actor,
    )
    services.account_identity_link(
        IdentityLink(provider="facebook", provider_id="f1"),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    before = state(tenant)
    response = lr.delete(f"{S}/{account.uid}/identities/facebook/f1")
    assert (response.status_code, response.json()["code"]) == (409, "account.last_sign_in_method")
    assert state(tenant) == before and account.identities.count() == 1


# ---------------------------------------------------------------- token-side unlink


def _token_client(tenant, account):
    from tokens.commands import SessionIssue
    from tokens.services.sessions import session_issue

    issued = session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
    )
    client = APIClient()
    return client, issued.access_token


def test_social_identity_unlink_with_access_token(tenant, actor):
    account = services.account_create(
        profile_body.account_create_read(
            {"Email": [{"Type": "Primary", "Value": "t@example.com"}], "Password": GOOD_PASSWORD}
        ),
        tenant=tenant,
        actor=actor,
    )
    services.account_identity_link(
        IdentityLink(provider="google", provider_id="g9"),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    client, token = _token_client(tenant, account)
    url = f"/identity/v2/auth/socialidentity?apikey={tenant.api_key}"
    response = client.delete(
        url,
        {"provider": "google", "providerid": "g9"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.json() == {"IsDeleted": True}
    assert not account.identities.exists()
    event = AuditEvent.objects.get(action="account_identity.unlinked", subject_uid=account.uid)
    assert event.actor_type == "account"
    assert_error(
        client.delete(
            url,
            {"provider": "google", "providerid": "g9"},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ),
        404,
    )
    assert_error(
        client.delete(url, {"provider": "google", "providerid": "g9"}, format="json"), 1060
    )


def test_delete_ends_real_sessions(lr, tenant, actor):
    from tokens.errors import AccessTokenInvalid
    from tokens.selectors import access_token_resolve

    account = services.account_create(
        profile_body.account_create_read({"UserName": "sess", "Password": GOOD_PASSWORD}),
        tenant=tenant,
        actor=actor,
    )
    _, token = _token_client(tenant, account)
    assert access_token_resolve(tenant=tenant, token=token).account_id == account.pk
    assert lr.delete(f"{A}/{account.uid}").json()["IsDeleted"] is True
    with pytest.raises(AccessTokenInvalid):
        access_token_resolve(tenant=tenant, token=token)


def test_factory_accounts_are_searchable(lr, tenant):
    from tests.factories import AccountFactory

    account = AccountFactory(
        tenant=tenant, first_name="Zed", last_name="Quill", email="zq@example.com"
    )
    assert uids(lr.get(S, {"search": "zed quill"})) == [account.uid]
    assert uids(lr.get(S, {"search": "zq@example"})) == [account.uid]


def test_privacy_policy_history_with_access_token(tenant, actor):
    account = services.account_create(
        profile_body.account_create_read(
            {"UserName": "pp", "Password": GOOD_PASSWORD, "PrivacyPolicy": {"Version": "v3"}}
        ),
        tenant=tenant,
        actor=actor,
    )
    client, token = _token_client(tenant, account)
    response = client.get(
        f"/identity/v2/auth/privacypolicy/history?apikey={tenant.api_key}",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.json()["Uid"] == account.uid and response.json()["Current"]["Version"] == "v3"
    assert_error(
        client.get(
            f"/identity/v2/auth/privacypolicy/history?apikey={tenant.api_key}&access_token=bogus"
        ),
        905,
    )


def test_filterset_works_on_a_given_queryset_without_tenant(population, tenant):
    from accounts.filters import AccountFilter

    base = Account.objects.filter(tenant=tenant)
    for params, expected in [
        ({"email": "BOB@corp.io"}, [population["bob"].uid]),
        ({"username": "kitty"}, [population["cat"].uid]),
        ({"uid": population["ann"].uid}, [population["ann"].uid]),
        ({"phone": "+14155552671"}, [population["ann"].uid]),
    ]:
        filterset = AccountFilter(params, queryset=base)
        assert filterset.is_valid()
        assert [a.uid for a in filterset.qs] == expected
