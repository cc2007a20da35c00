"""The profile is read in one query on PostgreSQL (emails, identities and role names as
array columns of the account row), and says exactly what the row-by-row reads say."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import selectors, services
from accounts.api import profile_body
from accounts.commands import IdentityLink
from accounts.models import Account
from portal.audit import Actor
from roles import services as role_services
from roles.commands import AccountRolesAssign, RoleInput, RolesCreate

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("tests")


@pytest.fixture
def rich(tenant):
    account = services.account_create(
        profile_body.account_create_read(
            {
                "Email": [
                    {"Type": "Primary", "Value": "Rich@Example.com"},
                    {"Type": "Secondary", "Value": "r2@example.com"},
                ],
                "FirstName": "Rich",
                "PhoneId": "+14155550100",
                "UserName": "richie",
            }
        ),
        tenant=tenant,
        actor=SYSTEM,
    )
    for i in range(2):
        services.account_identity_link(
            IdentityLink(provider="google", provider_id=f"g{i}"),
            tenant=tenant,
            actor=SYSTEM,
            account=account,
        )
    role_services.roles_create(
        RolesCreate(
            roles=[RoleInput(name=name, permissions=("p",)) for name in ("zeta", "alpha", "mid")]
        ),
        tenant=tenant,
        actor=SYSTEM,
    )
    role_services.account_roles_assign(
        AccountRolesAssign(roles=["zeta", "alpha"]), tenant=tenant, actor=SYSTEM, account=account
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


def test_the_emails_loaded_with_the_account_are_its_rows_in_order(tenant, rich):
    account = selectors.account_get(tenant=tenant, uid=rich.uid, for_profile=True)
    with CaptureQueriesContext(connection) as ctx:
        rows = selectors.account_email_rows(account)
    assert ctx.captured_queries == []
    assert [(e["type"], e["value"], e["verified"]) for e in rows] == list(
        rich.emails.order_by("id").values_list("type", "value", "verified")
    )


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


def test_a_change_is_seen_by_the_next_read(tenant, rich):
    selectors.account_get(tenant=tenant, uid=rich.uid, for_profile=True)
    services.account_identity_link(
        IdentityLink(provider="github", provider_id="gh"),
        tenant=tenant,
        actor=SYSTEM,
        account=Account.objects.get(pk=rich.pk),
    )
    again = selectors.account_get(tenant=tenant, uid=rich.uid, for_profile=True)
    profile = selectors.account_profile(account=again)
    assert [i["ID"] for i in profile["Identities"]] == ["g0", "g1", "gh"]


def test_a_loaded_account_pickles_with_its_relations(tenant, rich):
    import pickle

    account = selectors.account_get(tenant=tenant, uid=rich.uid, for_profile=True)
    copy = pickle.loads(pickle.dumps(account))
    plain = _plain_profile(rich)
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.account_profile(account=copy) == plain
    if connection.vendor == "postgresql":  # everything came with the account's row
        assert ctx.captured_queries == []
