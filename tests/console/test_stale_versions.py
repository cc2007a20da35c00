"""The console's edit forms carry the version they were read at: an edit of a role context or
a record that changed since is refused with a sentence, and nothing changes."""

import pytest
from freezegun import freeze_time

from portal.audit import Actor
from roles.selectors import role_context_version
from tests.console.test_account_actions import _make_role, act, url
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(make_staff, console_client, tenant):
    return lambda role: console_client(make_staff(role, tenant))


def _context(account, name):
    from roles.models import RoleContext

    return RoleContext.objects.get(account=account, name=name)


def _grant(tenant, account, name, **fields):
    from roles.commands import ContextGrant, RoleContextGrant
    from roles.services import role_contexts_upsert

    role_contexts_upsert(
        RoleContextGrant(contexts=(ContextGrant(name=name, **fields),)),
        tenant=tenant,
        actor=Actor.system("test"),
        account=account,
    )


def test_an_edit_of_a_context_changed_since_its_form_was_read_is_refused(client_for, tenant):
    lead = client_for("Lead")
    _make_role(tenant, "editor")
    account = AccountFactory(tenant=tenant)
    with freeze_time("2026-03-01 10:00:00"):
        _grant(tenant, account, "shop", roles=("editor",))
    read = role_context_version(_context(account, "shop"))
    form = lead.get(url(account, "context_edit", context="shop")).content.decode()
    assert f'value="{read}"' in form
    with freeze_time("2026-03-01 10:05:00"):
        _grant(tenant, account, "shop", additional_permissions=("late",), keep_expiration=True)
    changed = role_context_version(_context(account, "shop"))

    edit = {"context": "shop", "add_permissions": "refund", "never_expires": "on"}
    response = act(lead, account, "context_edit", version=read, **edit)
    page = lead.get(response.url).content.decode()
    assert "Edit role context was refused: The role context changed since it was read" in page
    context = _context(account, "shop")
    assert (context.additional_permissions, role_context_version(context)) == (["late"], changed)

    assert act(lead, account, "context_edit", version=changed, **edit).status_code == 302
    assert _context(account, "shop").additional_permissions == ["late", "refund"]
