"""The profile is read in one query on PostgreSQL (emails, identities and role names as
array columns of the account row), and says exactly what the row-by-row reads say."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import selectors, services
from accounts.models import Account
from portal.audit import Actor
from roles import services as role_services

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("tests")


@pytest.fixture
def rich(tenant):
    account = services.account_create(
        tenant=tenant,
        actor=SYSTEM,
        data={
            "Email": [
                {"Type": "Primary", "Value": "Rich@Example.com"},
                {"Type": "Secondary", "Value": "r2@example.com"},
            ],
            "FirstName": "Rich",
            "PhoneId": "+14155550100",
            "UserName": "richie",
        },
    )
    for i in range(2):
        services.account_identity_link(
            tenant=tenant, actor=SYSTEM, account=account, provider="google", provider_id=f"g{i}"
        )
    role_services.roles_create(
        tenant=tenant,
        actor=SYSTEM,
        roles=[
            role_services.RoleInput(name=name, permissions=("p",))
            for name in ("zeta", "alpha", "mid")
        ],
    )
    role_services.account_roles_assign(
        tenant=tenant, actor=SYSTEM, account=account, role_names=["zeta", "alpha"]
    )
    return account


def _plain_profile(account) -> dict:
    return selectors.account_profile(account=Account.objects.get(pk=account.pk))


@pytest.mark.parametrize("how", ["uid", "email", "username", "phone", "q"])
def test_profile_loaded_with_the_account_equals_the_row_by_row_profile(tenant, rich, how):
    find = {
        "uid": lambda: selectors.account_get(tenant=tenant, uid=rich.uid, for_profile=True),
        "email": lambda: selectors.account_get_by_email(
            tenant=tenant, email="rich@example.COM", for_profile=True
        ),
        "username": lambda: selectors.account_get_by_username(
            tenant=tenant, username="RICHIE", for_profile=True
        ),
        "phone": lambda: selectors.account_get_by_phone(
            tenant=tenant, phone="+14155550100", for_profile=True
        ),
        "q": lambda: selectors.account_get_by_query(
            tenant=tenant, q=f"uid:{rich.uid}", for_profile=True
        ),
    }[how]
    with CaptureQueriesContext(connection) as ctx:
        profile = selectors.account_profile(account=find())
    assert len(ctx.captured_queries) == (1 if connection.vendor == "postgresql" else 4)
    assert profile == _plain_profile(rich)
    assert profile["Roles"] == ["alpha", "zeta"]
    assert [e["Value"] for e in profile["Email"]] == ["Rich@Example.com", "r2@example.com"]
    assert [i["ID"] for i in profile["Identities"]] == ["g0", "g1"]


def test_loaded_emails_and_identities_behave_like_prefetched_rows(tenant, rich):
    account = selectors.account_get(tenant=tenant, uid=rich.uid, for_profile=True)
    with CaptureQueriesContext(connection) as ctx:
        emails = list(account.emails.all())
        identities = list(account.identities.all())
    assert ctx.captured_queries == []
    assert [(e.pk, e.value, e.verified, e.created) for e in emails] == list(
        rich.emails.order_by("id").values_list("pk", "value", "verified", "created")
    )
    assert [(i.pk, i.provider, i.provider_id, i.created) for i in identities] == list(
        rich.identities.order_by("id").values_list("pk", "provider", "provider_id", "created")
    )
    assert all(e.account is account for e in emails)


def test_an_account_without_emails_identities_or_roles_has_nulls(tenant):
    bare = Account.objects.create(tenant=tenant)
    profile = selectors.account_profile(
        account=selectors.account_get(tenant=tenant, uid=bare.uid, for_profile=True)
    )
    assert profile["Email"] is None and profile["Identities"] is None and profile["Roles"] is None
    assert profile == _plain_profile(bare)


def test_accounts_by_email_loads_each_profile(tenant, rich):
    [found] = selectors.accounts_by_email(tenant=tenant, email="R2@example.com")
    assert selectors.account_profile(account=found) == _plain_profile(rich)


@pytest.mark.postgres
def test_reading_the_profile_builds_no_email_or_identity_objects(tenant, rich):
    account = selectors.account_get(tenant=tenant, uid=rich.uid, for_profile=True)
    selectors.account_profile(account=account)
    loaded = account._prefetched_objects_cache
    assert loaded.rows("emails") is not None and loaded.rows("identities") is not None
    assert dict.__len__(loaded) == 0  # nothing built yet
    with CaptureQueriesContext(connection) as ctx:
        assert [e.value for e in account.emails.all()] == ["Rich@Example.com", "r2@example.com"]
    assert ctx.captured_queries == []
    assert loaded.rows("emails") is None  # built: later reads use the objects


def test_loaded_relations_answer_like_a_prefetch_cache(tenant, rich):
    from django.db.models import prefetch_related_objects

    account = selectors.account_get(tenant=tenant, uid=rich.uid, for_profile=True)
    with CaptureQueriesContext(connection) as ctx:
        prefetch_related_objects([account], "emails", "identities")
    assert ctx.captured_queries == []
    # A filter on the manager is still the account's own rows.
    assert list(account.emails.filter(value__istartswith="r2").values_list("value", flat=True)) == [
        "r2@example.com"
    ]
    cache = account._prefetched_objects_cache
    assert "emails" in cache and cache.get("missing") is None and "missing" not in cache
    with pytest.raises(KeyError):
        cache["missing"]
    assert sorted(cache) == ["emails", "identities"]


def test_a_dropped_or_refreshed_relation_is_read_again(tenant, rich):
    account = selectors.account_get(tenant=tenant, uid=rich.uid, for_profile=True)
    services.account_email_upsert(
        tenant=tenant,
        actor=SYSTEM,
        account=Account.objects.get(pk=rich.pk),
        emails=[{"Type": "Work", "Value": "w@example.com"}],
    )
    del account._prefetched_objects_cache["emails"]
    assert "w@example.com" in [
        e["Value"] for e in selectors.account_profile(account=account)["Email"]
    ]

    again = selectors.account_get(tenant=tenant, uid=rich.uid, for_profile=True)
    services.account_identity_link(
        tenant=tenant,
        actor=SYSTEM,
        account=Account.objects.get(pk=rich.pk),
        provider="github",
        provider_id="gh",
    )
    again.refresh_from_db()
    assert [i["ID"] for i in selectors.account_profile(account=again)["Identities"]] == [
        "g0",
        "g1",
        "gh",
    ]


def test_a_loaded_account_pickles_with_its_relations(tenant, rich):
    import pickle

    account = selectors.account_get(tenant=tenant, uid=rich.uid, for_profile=True)
    copy = pickle.loads(pickle.dumps(account))
    with CaptureQueriesContext(connection) as ctx:
        assert [e.value for e in copy.emails.all()] == ["Rich@Example.com", "r2@example.com"]
    assert ctx.captured_queries == []
    assert selectors.account_profile(account=copy) == _plain_profile(rich)
