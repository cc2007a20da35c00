"""The roles screens: counts that include holders through role contexts (one query per list),
a role's page with its holders by name, the role-context pages with their extend, revoke and
add-holder dialogs, the "expiring in 7 days" view and the context-name typeahead."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.audit import Actor
from portal.models import AuditEvent
from roles import selectors as role_selectors
from roles.commands import AccountRolesAssign, ContextGrant, RoleContextGrant
from roles.models import RoleContext
from roles.services import account_roles_assign, role_contexts_upsert
from tests.console.test_account_actions import _make_role
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


def give_context(tenant, account, name, roles=("store_manager",), expiration=None):
    role_contexts_upsert(
        RoleContextGrant(contexts=[ContextGrant(name=name, roles=roles, expiration=expiration)]),
        tenant=tenant,
        actor=SYSTEM,
        account=account,
    )


def give_role(tenant, account, role):
    account_roles_assign(
        AccountRolesAssign(roles=[role]), tenant=tenant, actor=SYSTEM, account=account
    )


def contexts_of(tenant) -> list[tuple]:
    """Every stored context of the tenant, to prove a refusal changed nothing."""
    return sorted(
        (c.account_id, c.name, c.expiration, tuple(sorted(r.name for r in c.roles.all())))
        for c in RoleContext.objects.filter(tenant=tenant).prefetch_related("roles")
    )


@pytest.fixture
def stores(tenant):
    """store_manager held only in contexts (4 holders, one of them also directly; one more
    holder whose context has expired), support held directly."""
    _make_role(tenant, "store_manager", ("orders.manage",))
    _make_role(tenant, "support", ("tickets.read",))
    people = [
        AccountFactory(tenant=tenant, first_name=first, last_name="Stone", email=f"{first}@ex.com")
        for first in ("Ann", "Bea", "Cal", "Dee", "Eve")
    ]
    soon = timezone.now() + timedelta(days=3)
    later = timezone.now() + timedelta(days=40)
    give_context(tenant, people[0], "store-berlin", expiration=soon)
    give_context(tenant, people[1], "store-berlin", expiration=later)
    give_context(tenant, people[2], "store-paris")
    give_context(tenant, people[3], "store-paris", expiration=later)
    give_context(tenant, people[4], "store-rome", expiration=timezone.now() - timedelta(days=1))
    give_role(tenant, people[3], "store_manager")
    give_role(tenant, people[4], "support")
    return {"people": people, "soon": soon, "later": later}


@pytest.fixture
def as_role(make_staff, console_client, tenant):
    def make(role, perms=None):
        return console_client(make_staff(role, tenant, perms))

    return make


# Counts ------------------------------------------------------------------------------------


def test_a_role_held_only_in_contexts_counts_its_holders_once_each(tenant, stores):
    counts = role_selectors.role_holder_counts(tenant=tenant)
    # Ann, Bea, Cal, Dee through active contexts (Dee also directly); Eve's context expired.
    assert counts["store_manager"] == role_selectors.RoleHolderCount(
        direct=1, through_contexts=4, total=4
    )
    assert counts["support"] == role_selectors.RoleHolderCount(
        direct=1, through_contexts=0, total=1
    )


def test_the_roles_screen_shows_counts_through_contexts(as_role, stores):
    page = as_role("Viewer").get(reverse("console:roles")).content.decode()
    card = page.split('id="role-store_manager"')[1].split("</article>")[0]
    assert "4 accounts" in card and "1 directly, 4 in contexts" in card
    assert "0 accounts" not in page


def test_role_counts_take_one_query_whatever_the_number_of_roles(tenant, other_tenant, stores):
    with CaptureQueriesContext(connection) as few:
        role_selectors.role_holder_counts(tenant=tenant)
    for i in range(6):
        role = _make_role(tenant, f"extra{i}")
        holder = AccountFactory(tenant=tenant)
        give_role(tenant, holder, role.name)
        give_context(tenant, holder, f"ctx{i}", roles=(role.name,))
    with CaptureQueriesContext(connection) as many:
        counts = role_selectors.role_holder_counts(tenant=tenant)
    assert len(few) == len(many) == 1
    assert counts["extra0"].total == 1
    assert role_selectors.role_holder_counts(tenant=other_tenant) == {}


# The role's page -----------------------------------------------------------------------------


def test_the_role_page_names_its_holders_and_how_they_hold_it(as_role, tenant, stores):
    page = as_role("Lead").get(reverse("console:role_detail", args=["store_manager"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "orders.manage" in html and "4 accounts" in html
    table = html.split('id="role-holder-table"')[1]
    for first in ("Ann", "Bea", "Cal", "Dee", "Eve"):
        assert f"{first} Stone" in table
    dee_row = table.split("Dee Stone")[1].split("</tr>")[0]
    assert "Yes" in dee_row and "store-paris" in dee_row
    eve_row = table.split("Eve Stone")[1].split("</tr>")[0]
    assert "store-rome" in eve_row and "expired" in eve_row


def test_the_role_page_shows_its_description(as_role, tenant, stores):
    from roles.models import Role

    url = reverse("console:role_detail", args=["store_manager"])
    assert 'id="role-description"' not in as_role("Lead").get(url).content.decode()
    Role.objects.filter(tenant=tenant, name="store_manager").update(
        description="Runs one store & its orders."
    )
    html = as_role("Lead").get(url).content.decode()
    assert '<p id="role-description">Runs one store &amp; its orders.</p>' in html


def test_the_role_page_pages_its_holders(as_role, tenant):
    _make_role(tenant, "crowd")
    holders = [AccountFactory(tenant=tenant, first_name=f"P{i:02d}") for i in range(53)]
    for holder in holders:
        give_role(tenant, holder, "crowd")
    client = as_role("Viewer")
    first = client.get(reverse("console:role_detail", args=["crowd"])).content.decode()
    second = client.get(reverse("console:role_detail", args=["crowd"]), {"page": 2})
    second_html = second.content.decode()
    assert first.count("/console/accounts/") - second_html.count("/console/accounts/") == 47
    assert "Page 2 of 2" in second_html and holders[-1].uid in second_html
    assert holders[-1].uid not in first
    # A page past the end or a bad number is not an error.
    assert (
        client.get(reverse("console:role_detail", args=["crowd"]), {"page": "x"}).status_code == 200
    )


def test_another_tenants_role_is_not_found(as_role, other_tenant):
    _make_role(other_tenant, "secret_role")
    client = as_role("Lead")
    assert client.get(reverse("console:role_detail", args=["secret_role"])).status_code == 404
    assert client.get(reverse("console:role_detail", args=["nope"])).status_code == 404


# Contexts lists ----------------------------------------------------------------------------


def test_the_context_list_shows_roles_holders_and_nearest_expiry(as_role, stores):
    html = as_role("Viewer").get(reverse("console:role_context_list")).content.decode()
    table = html.split('id="context-table"')[1]
    berlin = table.split("<code>store-berlin</code>")[1].split("</tr>")[0]
    assert "store_manager" in berlin and ">2<" in berlin.replace(" ", "")
    assert stores["soon"].astimezone(UTC).strftime("%Y-%m-%d %H:%M") in berlin
    rome = table.split("<code>store-rome</code>")[1].split("</tr>")[0]
    assert "1 expired" in rome
    assert "Expiring in 7 days (1)" in html


def test_the_expiring_view_lists_only_grants_ending_within_7_days(as_role, stores):
    html = as_role("Lead").get(reverse("console:role_context_expiring")).content.decode()
    table = html.split('id="expiring-table"')[1]
    assert "Ann Stone" in table and "store-berlin" in table
    for other in ("Bea Stone", "Cal Stone", "Dee Stone", "Eve Stone"):
        assert other not in table


def test_the_context_page_lists_its_holders_by_name(as_role, stores):
    url = reverse("console:role_context_detail", args=["store-berlin"])
    html = as_role("Lead").get(url).content.decode()
    table = html.split('id="context-holders"')[1]
    assert "Ann Stone" in table and "Bea Stone" in table and "Cal Stone" not in table
    assert "Add holder" in html and ">Extend</a>" in html and ">Revoke</a>" in html
    # A Viewer sees names as the tenant masks them for Viewers, and no write controls.
    html = as_role("Viewer").get(url).content.decode()
    table = html.split('id="context-holders"')[1]
    assert "Ann Stone" not in table and stores["people"][0].uid in table
    assert "Add holder" not in html and ">Extend</a>" not in html


def test_an_unknown_or_foreign_context_is_not_found(as_role, other_tenant):
    _make_role(other_tenant, "store_manager")
    give_context(other_tenant, AccountFactory(tenant=other_tenant), "foreign-shop")
    client = as_role("Lead")
    for name in ("foreign-shop", "nowhere"):
        assert client.get(reverse("console:role_context_detail", args=[name])).status_code == 404
        assert (
            client.get(
                reverse("console:role_context_action", args=[name, "add_holder"])
            ).status_code
            == 404
        )


# Extend, revoke, add a holder -----------------------------------------------------------------


def action_url(name, op):
    return reverse("console:role_context_action", args=[name, op])


def test_a_lead_extends_a_holders_context(as_role, tenant, stores):
    ann = stores["people"][0]
    client = as_role("Lead")
    form = client.get(action_url("store-berlin", "extend"), {"account": ann.uid})
    assert form.status_code == 200 and "Extend store-berlin — Ann Stone" in form.content.decode()
    response = client.post(
        action_url("store-berlin", "extend"),
        {"account": ann.uid, "expiration": "2031-05-06T07:08", "reason": "Season extended"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("console:role_context_detail", args=["store-berlin"])
    stored = RoleContext.objects.get(account=ann, name="store-berlin")
    assert stored.expiration == datetime(2031, 5, 6, 7, 8, tzinfo=UTC)
    assert [r.name for r in stored.roles.all()] == ["store_manager"]
    event = AuditEvent.objects.filter(subject_uid=ann.uid).order_by("-id").first()
    assert (event.action, event.reason) == ("role_context.updated", "Season extended")


def test_extending_into_the_past_or_without_a_reason_changes_nothing(as_role, tenant, stores):
    ann = stores["people"][0]
    client = as_role("Lead")
    before = contexts_of(tenant)
    past = client.post(
        action_url("store-berlin", "extend"),
        {"account": ann.uid, "expiration": "2001-01-01T00:00", "reason": "r"},
    )
    assert past.status_code == 400 and "in the past" in past.content.decode()
    no_reason = client.post(
        action_url("store-berlin", "extend"), {"account": ann.uid, "never_expires": "on"}
    )
    assert no_reason.status_code == 400 and "Say why" in no_reason.content.decode()
    assert contexts_of(tenant) == before


def test_a_stale_extend_is_refused(as_role, tenant, stores):
    ann = stores["people"][0]
    client = as_role("Lead")
    stored = RoleContext.objects.get(account=ann, name="store-berlin")
    version = role_selectors.role_context_version(stored)
    give_context(tenant, ann, "store-berlin", expiration=stores["later"])  # changed meanwhile
    before = contexts_of(tenant)
    response = client.post(
        action_url("store-berlin", "extend"),
        {"account": ann.uid, "version": version, "never_expires": "on", "reason": "r"},
    )
    assert response.status_code == 409 and "Nothing was changed" in response.content.decode()
    assert contexts_of(tenant) == before


def test_a_lead_revokes_a_holders_context_in_a_dialog(as_role, tenant, stores):
    ann = stores["people"][0]
    client = as_role("Lead")
    dialog = client.get(
        action_url("store-berlin", "revoke"), {"account": ann.uid}, HTTP_HX_REQUEST="true"
    )
    html = dialog.content.decode()
    assert html.startswith("<dialog") and 'id="action-dialog"' in html
    assert "Revoke store-berlin — Ann Stone" in html
    assert "Ann Stone holds store_manager in store-berlin, until " in html
    response = client.post(
        action_url("store-berlin", "revoke"),
        {"account": ann.uid, "reason": "Left the store"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("console:role_context_detail", args=["store-berlin"])
    assert not RoleContext.objects.filter(account=ann, name="store-berlin").exists()
    assert RoleContext.objects.filter(name="store-berlin").count() == 1
    event = AuditEvent.objects.filter(subject_uid=ann.uid).order_by("-id").first()
    assert (event.action, event.reason) == ("role_context.deleted", "Left the store")


def test_a_lead_adds_a_holder_found_by_email_with_the_contexts_roles_offered(
    as_role, tenant, stores
):
    newcomer = AccountFactory(tenant=tenant, first_name="Fay", email="fay@ex.com")
    client = as_role("Lead")
    form = client.get(action_url("store-berlin", "add_holder")).content.decode()
    # The roles every holder has in it come ticked.
    assert re.search(r'<input[^>]*value="store_manager"[^>]*checked', form)
    response = client.post(
        action_url("store-berlin", "add_holder") + "?next=/console/roles/",
        {
            "holder": "FAY@ex.com",
            "roles": ["store_manager"],
            "expiration": "2031-01-02T03:04",
            "reason": "Covers the summer",
            "ticket": "SUP-9",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/console/roles/"
    stored = RoleContext.objects.get(account=newcomer, name="store-berlin")
    assert stored.expiration == datetime(2031, 1, 2, 3, 4, tzinfo=UTC)
    assert [r.name for r in stored.roles.all()] == ["store_manager"]
    # The ticket is offered again on the next form.
    assert 'value="SUP-9"' in client.get(action_url("store-berlin", "add_holder")).content.decode()


def test_adding_an_unknown_or_existing_holder_changes_nothing(as_role, tenant, stores):
    client = as_role("Lead")
    before = contexts_of(tenant)
    data = {"roles": ["store_manager"], "never_expires": "on", "reason": "r"}
    unknown = client.post(
        action_url("store-berlin", "add_holder"), {**data, "holder": "nobody@x.io"}
    )
    assert unknown.status_code == 400 and "No account of this tenant" in unknown.content.decode()
    holder = client.post(
        action_url("store-berlin", "add_holder"), {**data, "holder": stores["people"][0].uid}
    )
    assert holder.status_code == 400 and "already holds store-berlin" in holder.content.decode()
    no_role = client.post(
        action_url("store-berlin", "add_holder"), {**data, "roles": [], "holder": "fay@ex.com"}
    )
    assert no_role.status_code == 400 and "Tick at least one role" in no_role.content.decode()
    assert contexts_of(tenant) == before


def test_an_account_of_another_tenant_cannot_be_added(as_role, tenant, other_tenant, stores):
    stranger = AccountFactory(tenant=other_tenant, email="stranger@ex.com")
    before = contexts_of(tenant)
    response = as_role("Lead").post(
        action_url("store-berlin", "add_holder"),
        {"holder": stranger.uid, "roles": ["store_manager"], "never_expires": "on", "reason": "r"},
    )
    assert response.status_code == 400
    assert contexts_of(tenant) == before and not RoleContext.objects.filter(account=stranger)


def test_adding_a_privileged_role_waits_for_approval(as_role, tenant, stores):
    from roles.models import Role

    Role.objects.filter(tenant=tenant, name="store_manager").update(privileged=True)
    tenant.settings = {**tenant.settings, "approval_gates": ["role.privileged"]}
    tenant.save()
    newcomer = AccountFactory(tenant=tenant, email="gil@ex.com")
    response = as_role("Lead").post(
        action_url("store-berlin", "add_holder"),
        {"holder": "gil@ex.com", "roles": ["store_manager"], "never_expires": "on", "reason": "r"},
    )
    assert response.status_code == 302 and "/console/approvals/" in response["Location"]
    assert not RoleContext.objects.filter(account=newcomer).exists()


# The context-name typeahead and the account page's new-context choice --------------------------


def test_the_typeahead_offers_the_tenants_names_only(as_role, other_tenant, stores):
    _make_role(other_tenant, "store_manager")
    give_context(other_tenant, AccountFactory(tenant=other_tenant), "store-secret")
    client = as_role("Viewer")
    options = client.get(reverse("console:role_context_names"), {"q": "STORE-"}).content.decode()
    assert 'value="store-berlin"' in options and 'value="store-rome"' in options
    assert "store-secret" not in options
    found = client.get(reverse("console:role_context_names"), {"q": "par", "format": "json"})
    assert found.json() == {"names": ["store-paris"]}
    # htmx sends the input's own name.
    assert client.get(
        reverse("console:role_context_names"), {"context": "ber"}
    ).content.decode() == ('<option value="store-berlin"></option>\n')


def test_a_new_context_name_needs_the_explicit_choice(as_role, tenant, stores):
    from tests.console.test_account_actions import act

    client = as_role("Lead")
    account = stores["people"][1]
    before = contexts_of(tenant)
    typo = act(
        client, account, "context_add", context="store-berln", roles=["support"], never_expires="on"
    )
    assert typo.status_code == 400
    assert "No role context is named store-berln" in typo.content.decode()
    assert contexts_of(tenant) == before
    # An existing name needs no choice; a new one with it is created.
    assert (
        act(
            client,
            account,
            "context_add",
            context="store-paris",
            roles=["support"],
            never_expires="on",
        ).status_code
        == 302
    )
    assert (
        act(
            client,
            account,
            "context_add",
            context="store-lyon",
            create_new="on",
            roles=["support"],
            never_expires="on",
        ).status_code
        == 302
    )
    names = set(RoleContext.objects.filter(account=account).values_list("name", flat=True))
    assert names == {"store-berlin", "store-paris", "store-lyon"}


def test_the_add_context_form_suggests_existing_names(as_role, stores):
    from tests.console.test_account_actions import url

    html = as_role("Lead").get(url(stores["people"][0], "context_add")).content.decode()
    assert 'list="id_context_names"' in html and '<datalist id="id_context_names">' in html
    assert '<option value="store-paris"></option>' in html
    assert reverse("console:role_context_names") in html
    assert "Create a new context" in html


# Staff permissions read as on the grant form ------------------------------------------------


def test_staff_permissions_show_the_grant_forms_labels(make_staff, console_client, tenant):
    from portal import staff

    admin = make_staff("Admin", tenant)
    make_staff("Agent", tenant, perms=["view_accounts", "manage_roles"], username="agent.ann")
    html = (
        console_client(admin)
        .get(reverse("console:tenant_detail", args=[tenant.slug]))
        .content.decode()
    )
    table = html.split('id="staff"')[1].split("</table>")[0]
    row = table.split("agent.ann")[1].split("</tr>")[0]
    assert "View accounts" in row and "Manage roles" in row
    assert "view_accounts" not in row and "manage_roles" not in row
    grant_form = html.split('action="/console/tenants/')[-1]
    for label in staff.TENANT_PERMISSIONS.values():
        assert label in grant_form


def test_the_list_pages_take_as_many_queries_for_many_rows_as_for_few(as_role, tenant, stores):
    client = as_role("Lead")
    pages = [
        reverse("console:roles"),
        reverse("console:role_context_list"),
        reverse("console:role_context_expiring"),
        reverse("console:role_detail", args=["store_manager"]),
        reverse("console:role_context_detail", args=["store-paris"]),
    ]

    def queries(url) -> int:
        with CaptureQueriesContext(connection) as seen:
            assert client.get(url).status_code == 200
        return len(seen)

    queries(pages[0])  # the sign-in's first request also refreshes the session
    before = {url: queries(url) for url in pages}
    for i in range(8):
        role = _make_role(tenant, f"more{i}")
        holder = AccountFactory(tenant=tenant, first_name=f"Q{i}")
        give_role(tenant, holder, "store_manager")
        give_context(tenant, holder, f"zone{i}", roles=(role.name,))
        give_context(
            tenant,
            holder,
            "store-paris",
            roles=("store_manager",),
            expiration=timezone.now() + timedelta(days=2),
        )
    assert {url: queries(url) for url in pages} == before


def test_bad_input_is_a_form_error_or_not_found_never_a_500(as_role, tenant, stores):
    client = as_role("Lead")
    before = contexts_of(tenant)
    for holder in ("a@", "@", "x" * 300, "a\x00b", "  ", "a@b@c", "<script>"):
        response = client.post(
            action_url("store-berlin", "add_holder"),
            {"holder": holder, "roles": ["store_manager"], "never_expires": "on", "reason": "r"},
        )
        assert response.status_code == 400, holder
    for account in ("", "\x00", "nope"):
        response = client.post(
            action_url("store-berlin", "extend"),
            {"account": account, "never_expires": "on", "reason": "r"},
        )
        assert response.status_code == 404, account
    garbage = client.post(
        action_url("store-berlin", "extend"),
        {"account": stores["people"][0].uid, "expiration": "garbage", "reason": "r"},
    )
    assert garbage.status_code == 400
    assert client.get(reverse("console:role_context_names"), {"q": "\x00ber"}).status_code == 200
    assert client.get(reverse("console:role_detail", args=["a\x00"])).status_code == 404
    assert client.get(reverse("console:role_context_detail", args=["a\x00"])).status_code == 404
    assert client.get(action_url("a\x00", "add_holder")).status_code == 404
    assert client.get(action_url("store-berlin", "explode")).status_code == 404
    assert contexts_of(tenant) == before
