"""The role-context forms: one expiry date-time or "Never expires" (never both, never
neither), exactly what the confirmation shows is stored, and creating a context asks only
what applies to a new one."""

import pytest

from portal.audit import Actor
from roles.models import RoleContext
from tests.console.test_account_actions import _make_role, act, state, url
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


@pytest.fixture
def lead(make_staff, console_client, tenant):
    return console_client(make_staff("Lead", tenant))


@pytest.fixture
def account(tenant):
    _make_role(tenant, "editor")
    return AccountFactory(tenant=tenant)


def contexts_via_api(lr, account) -> dict:
    response = lr.get(f"/identity/v2/manage/account/{account.uid}/rolecontext")
    assert response.status_code == 200, response.content
    return {c["Context"]: c for c in response.json()["Data"]}


def _existing(tenant, account, name="shop", expiration=None):
    from roles.commands import ContextGrant, RoleContextGrant
    from roles.services import role_contexts_upsert

    role_contexts_upsert(
        RoleContextGrant(
            contexts=[ContextGrant(name=name, roles=("editor",), expiration=expiration)]
        ),
        tenant=tenant,
        actor=SYSTEM,
        account=account,
    )


def review(client, account, action, **fields):
    """Post the form without confirming: the confirmation page."""
    data = {"reason": "store manager for a season", "ticket": "", **fields}
    return client.post(url(account, action), data)


# Creating -----------------------------------------------------------------------------------


def test_a_date_typed_on_create_is_what_gets_stored(lead, account, lr):
    # A browser still sending the old select's default must not turn the date into "never".
    response = act(
        lead,
        account,
        "context_add",
        create_new="on",
        context="shop-1",
        roles=["editor"],
        permissions="refund",
        expiration="2031-01-02T03:04",
        expiry="keep",
    )
    assert response.status_code == 302, response.content
    stored = contexts_via_api(lr, account)["shop-1"]
    assert stored["Expiration"] == "2031-01-02T03:04:00Z"
    assert (stored["Roles"], stored["AdditionalPermissions"]) == (["editor"], ["refund"])


def test_never_expires_on_create_stores_no_expiry(lr, lead, account):
    assert (
        act(
            lead,
            account,
            "context_add",
            create_new="on",
            context="shop-2",
            roles=["editor"],
            never_expires="on",
        ).status_code
        == 302
    )
    assert contexts_via_api(lr, account)["shop-2"]["Expiration"] is None


def test_the_confirmation_shows_exactly_what_will_be_stored(lead, account, lr):
    page = review(
        lead,
        account,
        "context_add",
        create_new="on",
        context="shop-3",
        roles=["editor"],
        expiration="2031-05-06T07:08",
    ).content.decode()
    assert "Are you sure?" in page
    assert "2031-05-06 07:08:00 UTC" in page
    assert "Never" not in page.split('id="action-summary"', 1)[1].split("</dl>", 1)[0]
    assert not RoleContext.objects.filter(account=account).exists()
    assert (
        act(
            lead,
            account,
            "context_add",
            create_new="on",
            context="shop-3",
            roles=["editor"],
            expiration="2031-05-06T07:08",
        ).status_code
        == 302
    )
    assert contexts_via_api(lr, account)["shop-3"]["Expiration"] == "2031-05-06T07:08:00Z"
    never = review(
        lead,
        account,
        "context_add",
        create_new="on",
        context="shop-4",
        roles=["editor"],
        never_expires="on",
    ).content.decode()
    summary = never.split('id="action-summary"', 1)[1].split("</dl>", 1)[0]
    assert "Never expires" in summary


@pytest.mark.parametrize("action", ["context_add", "context_edit"])
def test_a_date_together_with_never_is_refused_and_changes_nothing(lead, tenant, account, action):
    if action == "context_edit":
        _existing(tenant, account)
    before = state(account)
    response = act(
        lead,
        account,
        action,
        context="shop" if action == "context_edit" else "new",
        create_new="on",
        **({"roles": ["editor"]} if action == "context_add" else {}),
        expiration="2031-01-02T03:04",
        never_expires="on",
    )
    assert response.status_code == 400
    assert "not both" in response.content.decode()
    assert state(account) == before


def test_neither_a_date_nor_never_is_refused(lead, account):
    before = state(account)
    response = act(lead, account, "context_add", create_new="on", context="shop", roles=["editor"])
    assert response.status_code == 400
    assert "Never expires" in response.content.decode()
    assert state(account) == before


def test_a_past_date_is_refused(lead, account):
    before = state(account)
    response = act(
        lead,
        account,
        "context_add",
        create_new="on",
        context="shop",
        roles=["editor"],
        expiration="2001-01-01T00:00",
    )
    assert response.status_code == 400
    assert state(account) == before


def test_the_create_form_asks_only_what_applies_to_a_new_context(lead, account):
    page = lead.get(url(account, "context_add")).content.decode()
    assert 'name="context"' in page and 'name="roles"' in page and 'name="permissions"' in page
    assert 'name="expiration"' in page and 'name="never_expires"' in page
    assert "remove_roles" not in page and "remove_permissions" not in page
    assert 'name="expiry"' not in page


def test_creating_a_context_that_exists_is_refused(lead, tenant, account):
    _existing(tenant, account)
    before = state(account)
    response = act(
        lead,
        account,
        "context_add",
        create_new="on",
        context="shop",
        roles=["editor"],
        never_expires="on",
    )
    assert response.status_code == 400
    assert "already" in response.content.decode()
    assert state(account) == before


def test_the_account_page_links_to_the_create_form(lead, account):
    from tests.console.test_account_actions import detail

    page = detail(lead, account)
    assert url(account, "context_add") in page


# Editing ------------------------------------------------------------------------------------


def test_editing_starts_from_the_stored_expiry(lead, tenant, account):
    from datetime import UTC, datetime

    _existing(tenant, account, "dated", expiration=datetime(2032, 3, 4, 5, 6, tzinfo=UTC))
    _existing(tenant, account, "forever")
    dated = lead.get(url(account, "context_edit", context="dated")).content.decode()
    assert 'value="2032-03-04T05:06:00"' in dated
    assert (
        'name="never_expires"' in dated
        and "checked" not in dated.split('name="never_expires"', 1)[1][:80]
    )
    forever = lead.get(url(account, "context_edit", context="forever")).content.decode()
    assert "checked" in forever.split('name="never_expires"', 1)[1][:80]
    assert "remove_roles" in forever and "remove_permissions" in forever


def test_a_date_typed_on_edit_replaces_never(lead, tenant, account, lr):
    _existing(tenant, account)
    assert (
        act(
            lead,
            account,
            "context_edit",
            context="shop",
            expiration="2031-01-02T03:04",
            expiry="keep",
        ).status_code
        == 302
    )
    assert contexts_via_api(lr, account)["shop"]["Expiration"] == "2031-01-02T03:04:00Z"
    assert act(lead, account, "context_edit", context="shop", never_expires="on").status_code == 302
    assert contexts_via_api(lr, account)["shop"]["Expiration"] is None


def test_an_untouched_stored_expiry_is_kept_exactly(lead, tenant, account):
    from datetime import UTC, datetime

    # Stored through the API with sub-second precision; the form shows it to the second.
    stored = datetime(2032, 3, 4, 5, 6, 7, 500000, tzinfo=UTC)
    _existing(tenant, account, expiration=stored)
    assert (
        act(
            lead,
            account,
            "context_edit",
            context="shop",
            add_permissions="ship",
            expiration="2032-03-04T05:06:07",
        ).status_code
        == 302
    )
    context = RoleContext.objects.get(account=account, name="shop")
    assert context.expiration == stored and context.additional_permissions == ["ship"]


def test_editing_a_context_that_does_not_exist_is_refused(lead, account):
    before = state(account)
    response = act(lead, account, "context_edit", context="ghost", never_expires="on")
    assert response.status_code == 400
    assert state(account) == before
