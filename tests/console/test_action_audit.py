"""Every account action hands the reason and ticket given in the console to the section
service, which writes them on its audit event."""

import pytest

from accounts.commands import IdentityLink
from accounts.models import AccountEmail
from portal.audit import Actor
from portal.console import actions as console_actions
from portal.models import AuditEvent
from tests.console.test_account_actions import (
    _make_record,
    _make_role,
    _make_session,
    _make_totp,
    act,
)
from tests.factories import AccountFactory, AccountLockoutFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_approval_gates(tenant):
    """These tests are about the actions themselves, so the tenant holds none for a second
    person; tests/console/test_approvals.py covers the default gates."""
    tenant.settings = {**tenant.settings, "approval_gates": []}
    tenant.save()


SYSTEM = Actor.system("test")


def _second_email(tenant, account):
    AccountEmail.objects.create(
        tenant=tenant, account=account, type="Secondary", value="second@example.com"
    )
    return {"email": "second@example.com"}


def _identities(tenant, account):
    from accounts.services import account_identity_link

    for provider, pid in (("google", "g-1"), ("github", "h-2")):
        account_identity_link(
            IdentityLink(provider=provider, provider_id=pid),
            tenant=tenant,
            actor=SYSTEM,
            account=account,
        )
    return {"identity": "google:g-1"}


def _session(tenant, account):
    from tokens.models import TokenFamily

    _make_session(tenant, account)
    return {"session": str(TokenFamily.objects.get(account=account).pk)}


def _passkey(tenant, account):
    from security.models import PasskeyCredential

    PasskeyCredential.objects.create(
        tenant=tenant, account=account, credential_id="pk-1", public_key="pk"
    )
    return {"passkey": "pk-1"}


def _held_role(tenant, account):
    from roles.commands import AccountRolesAssign
    from roles.services import account_roles_assign

    _make_role(tenant, "support")
    account_roles_assign(
        AccountRolesAssign(roles=["support"]), tenant=tenant, actor=SYSTEM, account=account
    )
    return {"roles": ["support"]}


def _context(tenant, account):
    from roles.commands import ContextGrant, RoleContextGrant
    from roles.services import role_contexts_upsert

    _make_role(tenant, "support")
    role_contexts_upsert(
        RoleContextGrant(contexts=[ContextGrant(name="shop", roles=("support",))]),
        tenant=tenant,
        actor=SYSTEM,
        account=account,
    )
    return {"context": "shop"}


def _record(tenant, account):
    record = _make_record(tenant, account)
    return {"record": str(record.pk), "etag": record.etag}


# action -> (account attributes, setup returning the form fields, audit action written)
CASES = {
    "block": ({}, None, "account.blocked"),
    "unblock": ({"is_active": False}, None, "account.unblocked"),
    "unlock": ({"locked": True}, None, "account.unlocked"),
    "edit_profile": ({}, lambda t, a: {"first_name": "Changed"}, "account.updated"),
    "email_add": (
        {},
        lambda t, a: {"email": "new@example.com", "type": "Secondary"},
        "account_email.upserted",
    ),
    "email_remove": ({}, _second_email, "account_email.removed"),
    "email_make_primary": ({}, _second_email, "account_email.made_primary"),
    "phone_change": ({}, lambda t, a: {"phone": "+14155550177"}, "account_phone.updated"),
    "identity_unlink": ({}, _identities, "account_identity.unlinked"),
    "send_verification": ({}, lambda t, a: {"email": "a@example.com"}, "multipurpose_token.issued"),
    "send_password_reset": (
        {},
        lambda t, a: {"email": "a@example.com"},
        "multipurpose_token.issued",
    ),
    "session_revoke": ({}, _session, "session.revoked_by_id"),
    "sessions_revoke_all": ({}, lambda t, a: _make_session(t, a) and {}, "session.all_revoked"),
    "factor_reset": ({}, lambda t, a: _make_totp(t, a) and {"factor": "totp"}, "mfa_factor.reset"),
    "passkey_delete": ({}, _passkey, "passkey.deleted"),
    "backup_codes": ({}, None, "backup_codes.reset"),
    "secure": (
        {},
        lambda t, a: _make_session(t, a) and {"revoke_sessions": "on"},
        "account.secured",
    ),
    "roles_assign": (
        {},
        lambda t, a: _make_role(t, "support") and {"roles": ["support"]},
        "account_roles.assigned",
    ),
    "roles_unassign": ({}, _held_role, "account_roles.unassigned"),
    "context_add": (
        {},
        lambda t, a: (
            _make_role(t, "support")
            and {"context": "shop", "create_new": "on", "roles": ["support"], "never_expires": "on"}
        ),
        "role_context.created",
    ),
    "context_edit": (
        {},
        lambda t, a: {**_context(t, a), "add_permissions": "refund", "never_expires": "on"},
        "role_context.updated",
    ),
    "context_delete": ({}, _context, "role_context.deleted"),
    "record_edit": (
        {},
        lambda t, a: {**_record(t, a), "data": '{"total": 11}'},
        "customobject.updated",
    ),
    "record_delete": ({}, _record, "customobject.deleted"),
    "impersonate": ({}, None, "session.impersonated"),
    "delete": ({}, lambda t, a: {"confirm_uid": a.uid}, "account.deleted"),
}


def test_every_action_is_covered():
    assert set(CASES) == set(console_actions.ACTIONS)


@pytest.fixture
def admin(make_staff, console_client, tenant):
    return console_client(make_staff("Admin", tenant))


@pytest.mark.parametrize("action", sorted(CASES))
def test_the_audit_event_carries_the_reason_and_ticket(admin, tenant, action):
    attributes, setup, audit_action = CASES[action]
    attributes = dict(attributes)
    locked = attributes.pop("locked", False)
    account = AccountFactory(tenant=tenant, email="a@example.com", **attributes)
    if locked:
        AccountLockoutFactory(account=account)
    fields = setup(tenant, account) if setup else {}
    first_new = (AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    response = act(admin, account, action, reason=f"because of {action}", ticket="SUP-77", **fields)
    assert response.status_code in (200, 302)
    event = AuditEvent.objects.filter(
        id__gte=first_new, subject_uid=account.uid, action=audit_action
    ).get()
    assert (event.reason, event.ticket) == (f"because of {action}", "SUP-77")
    assert event.actor_type == "staff"
