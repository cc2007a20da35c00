"""Account-page actions: each runs the section's service (so the API's rules apply), asks for a
reason, is confirmed first, lands in the timeline; a refused one changes nothing."""

import re

import pytest
from django.urls import reverse

from accounts.commands import IdentityLink
from accounts.models import Account, AccountEmail
from portal import crypto
from portal.audit import Actor
from portal.console import actions as console_actions
from portal.models import AuditEvent
from security.commands import BackupCodesGenerate
from tests.factories import AccountFactory, AccountLockoutFactory
from tokens.errors import AccessTokenExpired, AccessTokenInvalid

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_approval_gates(tenant):
    """These tests are about the actions themselves, so the tenant holds none for a second
    person; tests/console/test_approvals.py covers the default gates."""
    tenant.settings = {**tenant.settings, "approval_gates": []}
    tenant.save()


def url(account, action, **query):
    base = reverse("console:account_action", args=[account.tenant.slug, account.uid, action])
    if query:
        from urllib.parse import urlencode

        base += "?" + urlencode(query)
    return base


def act(client, account, action, *, reason="ticket from the customer", ticket="SUP-1", **fields):
    """Post an action, confirmed, as the confirmation page would."""
    data = {"reason": reason, "ticket": ticket, "confirmed": "True", **fields}
    return client.post(url(account, action), data)


def state(account) -> dict:
    """Everything an action might change, to prove a refusal changed nothing."""
    from customobjects.models import CustomObjectRecord
    from roles.models import AccountRole, RoleContext
    from security.models import AccountLockout, BackupCode, OtpFactor, TotpFactor
    from tokens.models import MultipurposeToken, OutboxMessage, TokenFamily

    fresh = Account.objects.filter(pk=account.pk).values().first()
    if fresh is not None:
        fresh.pop("modified", None)
    return {
        "account": fresh,
        "emails": sorted(
            AccountEmail.objects.filter(account_id=account.pk).values_list(
                "type", "value", "verified"
            )
        ),
        "live_sessions": TokenFamily.objects.filter(
            account_id=account.pk, revoked_at__isnull=True
        ).count(),
        "lockout": list(
            AccountLockout.objects.filter(account_id=account.pk).values_list(
                "locked_type", "locked_until"
            )
        ),
        "totp": TotpFactor.objects.filter(account_id=account.pk).count(),
        "otp": OtpFactor.objects.filter(account_id=account.pk).count(),
        "codes": sorted(
            BackupCode.objects.filter(account_id=account.pk).values_list("code_hash", flat=True)
        ),
        "roles": sorted(
            AccountRole.objects.filter(account_id=account.pk).values_list("role__name", flat=True)
        ),
        "contexts": RoleContext.objects.filter(account_id=account.pk).count(),
        "records": sorted(
            CustomObjectRecord.objects.filter(account_id=account.pk).values_list(
                "record_id", "version"
            )
        ),
        "tokens": MultipurposeToken.objects.filter(account_id=account.pk).count(),
        "messages": OutboxMessage.objects.filter(account_id=account.pk).count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def client_for(make_staff, console_client, tenant):
    def make(role="Agent", perms=None):
        client = console_client(make_staff(role, tenant, perms))
        return client

    return make


@pytest.fixture
def agent(client_for):
    return client_for("Agent")


@pytest.fixture
def lead(client_for):
    return client_for("Lead")


@pytest.fixture
def admin(client_for):
    return client_for("Admin")


def last_event(account):
    return AuditEvent.objects.filter(subject_uid=account.uid).order_by("-id").first()


def detail(client, account):
    return client.get(
        reverse("console:account_detail", args=[account.tenant.slug, account.uid])
    ).content.decode()


def _make_session(tenant, account):
    from tokens.commands import SessionIssue
    from tokens.services.sessions import session_issue

    return session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
    )


def _make_totp(tenant, account):
    from security.models import TotpFactor

    return TotpFactor.objects.create(
        tenant=tenant,
        account=account,
        secret_encrypted=crypto.encrypt("JBSWY3DPEHPK3PXP"),
        confirmed=True,
    )


def _make_role(tenant, name="support", permissions=("read",)):
    from roles.commands import RoleInput, RolesCreate
    from roles.services import roles_create

    return roles_create(
        RolesCreate(roles=[RoleInput(name, tuple(permissions))]),
        tenant=tenant,
        actor=Actor.system("test"),
    )[0]


def _make_record(tenant, account, data=None, schema=None):
    from customobjects.commands import ObjectTypeCreate, RecordCreate
    from customobjects.services import object_type_create, record_create

    object_type = object_type_create(
        ObjectTypeCreate(name="Orders", schema=schema), tenant=tenant, actor=Actor.system("test")
    )
    return record_create(
        RecordCreate(data=data or {"total": 10}),
        tenant=tenant,
        actor=Actor.system("test"),
        object_type=object_type,
        account=account,
    )


# The shape every action shares -------------------------------------------------------------


def test_the_form_asks_for_a_reason_and_the_confirmation_repeats_it(agent, tenant):
    account = AccountFactory(tenant=tenant, first_name="Ann")
    page = agent.get(url(account, "edit_profile")).content.decode()
    assert 'name="reason"' in page and 'name="ticket"' in page
    before = state(account)
    response = agent.post(
        url(account, "edit_profile"),
        {"first_name": "Anna", "reason": "asked by phone", "ticket": "SUP-9"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Are you sure?" in body
    assert "asked by phone" in body and "Anna" in body
    assert state(account) == before  # nothing runs before the confirmation


@pytest.mark.parametrize(
    "action,fields",
    [
        ("block", {}),
        ("unlock", {}),
        ("edit_profile", {"first_name": "New"}),
        ("email_add", {"email": "new@example.com", "type": "Secondary"}),
        ("phone_change", {"phone": "+14155550199"}),
        ("sessions_revoke_all", {}),
        ("backup_codes", {}),
        ("send_password_reset", {}),
    ],
)
def test_a_missing_reason_is_refused_and_changes_nothing(agent, tenant, action, fields):
    account = AccountLockoutFactory(account__tenant=tenant, account__email="a@example.com").account
    _make_session(tenant, account)
    if action == "send_password_reset":
        fields = {"email": "a@example.com"}
    before = state(account)
    response = act(agent, account, action, reason="", **fields)
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert state(account) == before


@pytest.mark.parametrize("action", sorted(console_actions.ACTIONS))
def test_a_viewer_may_not_run_any_action(client_for, tenant, action):
    viewer = client_for("Viewer")
    account = AccountLockoutFactory(account__tenant=tenant).account
    before = state(account)
    assert viewer.get(url(account, action)).status_code == 403
    assert act(viewer, account, action).status_code == 403
    assert state(account) == before


@pytest.mark.parametrize("action", sorted(console_actions.ACTIONS))
def test_another_tenants_account_is_not_found(admin, other_tenant, action):
    theirs = AccountLockoutFactory(account__tenant=other_tenant).account
    before = state(theirs)
    assert act(admin, theirs, action).status_code == 404
    assert state(theirs) == before


def test_a_tenant_permission_is_needed_as_well_as_the_role(client_for, tenant):
    agent_without_security = client_for("Agent", perms=["view_accounts", "manage_accounts"])
    account = AccountFactory(tenant=tenant)
    _make_totp(tenant, account)
    before = state(account)
    assert act(agent_without_security, account, "factor_reset", factor="totp").status_code == 403
    assert state(account) == before
    assert (
        "Reset"
        not in detail(agent_without_security, account)
        .split('id="account-factors"')[1]
        .split("</table>")[0]
    )


# Profile, emails, phone, identities ----------------------------------------------------------


def test_edit_profile_runs_account_update_with_reason_and_ticket(agent, tenant, lr):
    account = AccountFactory(tenant=tenant, first_name="Ann", last_name="Lee", username="ann")
    response = act(
        agent,
        account,
        "edit_profile",
        first_name="Anna",
        middle_name="",
        last_name="Lee",
        username="ann",
        reason="legal name change",
        ticket="SUP-12",
    )
    assert response.status_code == 302
    profile = lr.get(f"/identity/v2/manage/account/{account.uid}").json()
    assert profile["FirstName"] == "Anna" and profile["LastName"] == "Lee"
    event = last_event(account)
    assert (event.action, event.reason, event.ticket) == (
        "account.updated",
        "legal name change",
        "SUP-12",
    )
    assert event.diff["FirstName"] == ["Ann", "Anna"]
    assert "legal name change" in detail(agent, account).split('id="timeline"')[1]


def test_edit_profile_refuses_a_username_the_api_refuses(agent, tenant, lr):
    AccountFactory(tenant=tenant, username="taken")
    account = AccountFactory(tenant=tenant, username="mine")
    api = lr.put(f"/identity/v2/manage/account/{account.uid}", {"UserName": "taken"})
    assert api.status_code == 400
    before = state(account)
    response = act(
        agent,
        account,
        "edit_profile",
        first_name=account.first_name,
        last_name=account.last_name,
        username="taken",
    )
    assert response.status_code == 302
    assert state(account) == before
    assert "was refused" in agent.get(response["Location"]).content.decode()


def test_edit_profile_with_nothing_changed_is_refused(agent, tenant):
    account = AccountFactory(tenant=tenant, first_name="Ann", last_name="Lee")
    before = state(account)
    response = act(agent, account, "edit_profile", first_name="Ann", last_name="Lee")
    assert response.status_code == 400 and "Nothing changed" in response.content.decode()
    assert state(account) == before


def test_make_an_email_primary(agent, tenant, lr):
    account = AccountFactory(tenant=tenant, email="first@example.com")
    AccountEmail.objects.filter(account=account).update(verified=True)
    AccountEmail.objects.create(
        tenant=tenant, account=account, type="Secondary", value="second@example.com"
    )
    assert "/email_make_primary/" in detail(agent, account)
    assert act(agent, account, "email_make_primary", email="second@example.com").status_code == 302
    emails = lr.get(f"/identity/v2/manage/account/{account.uid}").json()["Email"]
    assert sorted((e["Type"], e["Value"]) for e in emails) == [
        ("Primary", "second@example.com"),
        ("Secondary", "first@example.com"),
    ]
    assert sorted(
        AccountEmail.objects.filter(account=account).values_list("value", "verified")
    ) == [("first@example.com", True), ("second@example.com", False)]
    assert last_event(account).action == "account_email.made_primary"


def test_add_and_remove_email(agent, tenant, lr):
    account = AccountFactory(tenant=tenant, email="first@example.com")
    assert (
        act(agent, account, "email_add", email="second@example.com", type="Secondary").status_code
        == 302
    )
    emails = lr.get(f"/identity/v2/manage/account/{account.uid}").json()["Email"]
    assert {e["Value"] for e in emails} == {"first@example.com", "second@example.com"}
    assert last_event(account).action == "account_email.upserted"
    assert act(agent, account, "email_remove", email="first@example.com").status_code == 302
    assert list(AccountEmail.objects.filter(account=account).values_list("value", flat=True)) == [
        "second@example.com"
    ]
    assert last_event(account).action == "account_email.removed"


def test_adding_an_email_another_account_uses_is_refused(agent, tenant):
    AccountFactory(tenant=tenant, email="used@example.com")
    account = AccountFactory(tenant=tenant, email="mine@example.com")
    before = state(account)
    act(agent, account, "email_add", email="USED@example.com", type="Secondary")
    assert state(account) == before


def test_an_existing_email_type_is_not_silently_replaced(agent, tenant):
    account = AccountFactory(tenant=tenant, email="mine@example.com")
    before = state(account)
    response = act(agent, account, "email_add", email="other@example.com", type="Primary")
    assert (
        response.status_code == 400 and "already has a Primary email" in response.content.decode()
    )
    assert state(account) == before


def test_the_last_email_cannot_be_removed(agent, tenant):
    account = AccountFactory(tenant=tenant, email="only@example.com")
    before = state(account)
    act(agent, account, "email_remove", email="only@example.com")
    assert state(account) == before


def test_change_phone_and_a_taken_phone_is_refused(agent, tenant):
    AccountFactory(tenant=tenant, phone_id="+14155550100")
    account = AccountFactory(tenant=tenant, phone_id="+14155550111", phone_id_verified=True)
    before = state(account)
    act(agent, account, "phone_change", phone="+14155550100")
    assert state(account) == before
    assert act(agent, account, "phone_change", phone="+1 415 555 0122").status_code == 302
    account.refresh_from_db()
    assert (account.phone_id, account.phone_id_verified) == ("+14155550122", False)
    assert last_event(account).action == "account_phone.updated"


def test_unlink_identity_keeps_the_last_way_to_sign_in(agent, tenant):
    from accounts.models import AccountIdentity
    from accounts.services import account_identity_link

    account = AccountFactory(tenant=tenant, email="social@example.com")
    account_identity_link(
        IdentityLink(provider="google", provider_id="g-1"),
        tenant=tenant,
        actor=Actor.system("t"),
        account=account,
    )
    before = state(account)
    act(agent, account, "identity_unlink", identity="google:g-1")  # no password: the only way in
    assert AccountIdentity.objects.filter(account=account).count() == 1
    assert state(account) == before
    account_identity_link(
        IdentityLink(provider="github", provider_id="h-2"),
        tenant=tenant,
        actor=Actor.system("t"),
        account=account,
    )
    assert (
        act(agent, account, "identity_unlink", identity="google:g-1", reason="merged").status_code
        == 302
    )
    assert list(
        AccountIdentity.objects.filter(account=account).values_list("provider", flat=True)
    ) == ["github"]
    event = last_event(account)
    assert (event.action, event.reason) == ("account_identity.unlinked", "merged")


# Messages ------------------------------------------------------------------------------------


def test_send_verification_email_queues_a_message_and_honours_the_cooldown(agent, tenant):
    from tokens.models import MultipurposeToken, OutboxMessage

    account = AccountFactory(tenant=tenant, email="v@example.com")
    assert act(agent, account, "send_verification", email="v@example.com").status_code == 302
    assert (
        MultipurposeToken.objects.filter(account=account, purpose="emailverification").count() == 1
    )
    assert OutboxMessage.objects.filter(account=account, recipient="v@example.com").count() == 1
    assert last_event(account).action == "multipurpose_token.issued"
    before = state(account)
    response = act(
        agent, account, "send_verification", email="v@example.com"
    )  # within the cooldown
    assert state(account) == before
    assert "was refused" in agent.get(response["Location"]).content.decode()
    page = detail(agent, account)
    assert "emailverification" in page.split('id="tokens"')[1]
    assert "v@example.com" in page.split('id="deliveries"')[1]


def test_send_password_reset_issues_a_forgot_password_token(agent, tenant):
    from tokens.models import MultipurposeToken

    account = AccountFactory(tenant=tenant, email="r@example.com")
    assert act(agent, account, "send_password_reset", email="r@example.com").status_code == 302
    assert MultipurposeToken.objects.filter(account=account, purpose="forgotpassword").count() == 1


def test_an_email_of_another_account_cannot_be_targeted(agent, tenant):
    AccountFactory(tenant=tenant, email="else@example.com")
    account = AccountFactory(tenant=tenant, email="r@example.com")
    before = state(account)
    response = act(agent, account, "send_password_reset", email="else@example.com")
    assert response.status_code == 400
    assert state(account) == before


# Sessions, factors, backup codes ---------------------------------------------------------------


def test_revoke_all_sessions_kills_the_tokens_the_api_accepted(agent, tenant, lr):
    from tokens.selectors import access_token_resolve

    account = AccountFactory(tenant=tenant)
    issued = [_make_session(tenant, account) for _ in range(2)]
    assert 'id="account-sessions">2<' in detail(agent, account)
    assert act(agent, account, "sessions_revoke_all", reason="stolen laptop").status_code == 302
    for session in issued:
        with pytest.raises(AccessTokenInvalid):
            access_token_resolve(tenant=tenant, token=session.access_token)
    event = last_event(account)
    assert (event.action, event.reason) == ("session.all_revoked", "stolen laptop")


def test_revoke_one_session(agent, tenant):
    from tokens.models import TokenFamily
    from tokens.selectors import access_token_resolve

    account = AccountFactory(tenant=tenant)
    first_issued = _make_session(tenant, account)
    second_issued = _make_session(tenant, account)
    first = TokenFamily.objects.filter(account=account).order_by("pk").first()
    assert f"?session={first.pk}" in detail(agent, account)
    assert (
        act(
            agent, account, "session_revoke", session=str(first.pk), reason="stolen phone"
        ).status_code
        == 302
    )
    assert list(TokenFamily.objects.filter(account=account, revoked_at__isnull=True)) == [
        TokenFamily.objects.exclude(pk=first.pk).get(account=account)
    ]
    with pytest.raises(AccessTokenInvalid):
        access_token_resolve(tenant=tenant, token=first_issued.access_token)
    assert (
        access_token_resolve(tenant=tenant, token=second_issued.access_token).account.pk
        == account.pk
    )
    event = last_event(account)
    assert (event.action, event.reason) == ("session.revoked_by_id", "stolen phone")


def test_a_session_of_another_account_cannot_be_revoked(agent, tenant):
    from tokens.models import TokenFamily

    account = AccountFactory(tenant=tenant)
    other = AccountFactory(tenant=tenant)
    _make_session(tenant, account)
    _make_session(tenant, other)
    theirs = TokenFamily.objects.get(account=other)
    before = state(other), state(account)
    assert act(agent, account, "session_revoke", session=str(theirs.pk)).status_code == 400
    assert (state(other), state(account)) == before


def test_reset_a_factor_through_the_security_service(agent, tenant):
    from security.models import TotpFactor

    account = AccountFactory(tenant=tenant)
    _make_totp(tenant, account)
    _make_session(tenant, account)
    page = detail(agent, account)
    assert 'id="reset-totp"' in page
    assert (
        act(agent, account, "factor_reset", factor="totp", reason="lost phone").status_code == 302
    )
    assert not TotpFactor.objects.filter(account=account).exists()
    assert state(account)["live_sessions"] == 0  # the service ends sessions, as through the API
    event = AuditEvent.objects.filter(subject_uid=account.uid, action="mfa_factor.reset").get()
    assert event.reason == "lost phone"


def test_a_factor_the_account_does_not_have_cannot_be_reset(agent, tenant):
    account = AccountFactory(tenant=tenant)
    before = state(account)
    assert act(agent, account, "factor_reset", factor="totp").status_code == 400
    assert state(account) == before


def test_regenerate_backup_codes_shows_them_once_and_they_work(agent, tenant):
    from security.services import backup_code_verify, backup_codes_generate

    account = AccountFactory(tenant=tenant)
    old = backup_codes_generate(
        BackupCodesGenerate(), tenant=tenant, actor=Actor.system("t"), account=account
    )
    response = act(agent, account, "backup_codes")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    codes = re.findall(
        r'<code class="secret">([0-9a-f]{5}-[0-9a-f]{5})</code>', response.content.decode()
    )
    assert len(codes) == 10 and not set(codes) & set(old)
    assert backup_code_verify(account=account, code=codes[0])
    assert not backup_code_verify(account=account, code=old[0])
    assert codes[1] not in detail(agent, account)
    assert "9 of 10 unused" in detail(agent, account)


# Roles ---------------------------------------------------------------------------------------


def test_assign_and_unassign_roles_needs_a_lead(agent, lead, tenant, lr):
    _make_role(tenant, "support")
    account = AccountFactory(tenant=tenant)
    before = state(account)
    assert act(agent, account, "roles_assign", roles=["support"]).status_code == 403
    assert state(account) == before
    assert act(lead, account, "roles_assign", roles=["support"]).status_code == 302
    assert lr.get(f"/identity/v2/manage/account/{account.uid}/role").json()["Roles"] == ["support"]
    assert last_event(account).action == "account_roles.assigned"
    assert act(lead, account, "roles_unassign", roles=["support"]).status_code == 302
    assert lr.get(f"/identity/v2/manage/account/{account.uid}/role").json()["Roles"] == []


def test_a_role_of_another_tenant_cannot_be_assigned(lead, tenant, other_tenant):
    _make_role(other_tenant, "theirs")
    account = AccountFactory(tenant=tenant)
    before = state(account)
    assert act(lead, account, "roles_assign", roles=["theirs"]).status_code == 400
    assert state(account) == before


def test_edit_and_delete_a_role_context(lead, tenant):
    from roles.models import RoleContext

    _make_role(tenant, "editor")
    account = AccountFactory(tenant=tenant)
    response = act(
        lead,
        account,
        "context_add",
        context="shop-1",
        create_new="on",
        roles=["editor"],
        permissions="refund, ship",
        expiration="2031-01-02T03:04",
    )
    assert response.status_code == 302
    context = RoleContext.objects.get(account=account, name="shop-1")
    assert [r.name for r in context.roles.all()] == ["editor"]
    assert context.additional_permissions == ["refund", "ship"]
    assert context.expiration.isoformat() == "2031-01-02T03:04:00+00:00"
    page = detail(lead, account)
    assert "shop-1" in page and "2031-01-02 03:04" in page
    assert (
        act(
            lead,
            account,
            "context_edit",
            context="shop-1",
            remove_roles=["editor"],
            remove_permissions="ship",
            never_expires="on",
        ).status_code
        == 302
    )
    context.refresh_from_db()
    assert (list(context.roles.all()), context.additional_permissions, context.expiration) == (
        [],
        ["refund"],
        None,
    )
    assert act(lead, account, "context_delete", context="shop-1").status_code == 302
    assert not RoleContext.objects.filter(account=account).exists()
    assert last_event(account).action == "role_context.deleted"


def test_a_context_edit_the_service_refuses_changes_nothing(lead, tenant):
    _make_role(tenant, "editor")
    account = AccountFactory(tenant=tenant)
    assert (
        act(
            lead,
            account,
            "context_add",
            context="c",
            create_new="on",
            roles=["editor"],
            permissions="a",
            never_expires="on",
        ).status_code
        == 302
    )
    before = state(account)
    # Removing a permission the context lacks is refused (1142); the add in the same form rolls back.
    act(
        lead,
        account,
        "context_edit",
        context="c",
        add_permissions="b",
        remove_permissions="zzz",
        expiration="2031-01-02T03:04",
    )
    assert state(account) == before
    from roles.models import RoleContext

    context = RoleContext.objects.get(account=account, name="c")
    assert (context.additional_permissions, context.expiration) == (["a"], None)


# Custom-object records --------------------------------------------------------------------------


def test_edit_a_record_within_its_schema_and_version(agent, tenant):
    schema = {"type": "object", "properties": {"total": {"type": "integer"}}}
    account = AccountFactory(tenant=tenant)
    record = _make_record(tenant, account, {"total": 10}, schema=schema)
    form = agent.get(url(account, "record_edit", record=record.pk)).content.decode()
    assert "&quot;total&quot;: 10" in form
    before = state(account)
    act(
        agent,
        account,
        "record_edit",
        record=str(record.pk),
        data='{"total": "ten"}',
        etag=record.etag,
    )
    assert state(account) == before  # the schema refuses it, as through the API
    act(
        agent, account, "record_edit", record=str(record.pk), data='{"total": 11}', etag='"stale.0"'
    )
    assert state(account) == before  # changed since the form was read
    assert (
        act(
            agent,
            account,
            "record_edit",
            record=str(record.pk),
            data='{"total": 12}',
            etag=record.etag,
            reason="refund",
        ).status_code
        == 302
    )
    record.refresh_from_db()
    assert record.data == {"total": 12} and record.version == 2
    event = last_event(account)
    assert (event.action, event.reason) == ("customobject.updated", "refund")


def test_delete_a_record(agent, tenant):
    from customobjects.models import CustomObjectRecord

    account = AccountFactory(tenant=tenant)
    record = _make_record(tenant, account)
    assert act(agent, account, "record_delete", record=str(record.pk)).status_code == 302
    assert not CustomObjectRecord.objects.filter(pk=record.pk).exists()
    assert last_event(account).action == "customobject.deleted"


def test_a_record_of_another_account_cannot_be_targeted(agent, tenant):
    from customobjects.models import CustomObjectRecord

    account = AccountFactory(tenant=tenant)
    other = AccountFactory(tenant=tenant)
    record = _make_record(tenant, other)
    assert act(agent, account, "record_delete", record=str(record.pk)).status_code == 400
    assert CustomObjectRecord.objects.filter(pk=record.pk).exists()


# Impersonation and deletion -------------------------------------------------------------------------


def test_impersonation_is_for_leads_shown_once_and_recorded(agent, lead, tenant):
    from tokens.selectors import access_token_resolve

    account = AccountFactory(tenant=tenant)
    before = state(account)
    assert act(agent, account, "impersonate").status_code == 403
    assert state(account) == before
    response = act(lead, account, "impersonate", reason="reproduce checkout bug")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    token = re.search(
        r'<code class="secret">([0-9a-f-]{36})</code>', response.content.decode()
    ).group(1)
    assert access_token_resolve(tenant=tenant, token=token).account.pk == account.pk
    event = last_event(account)
    assert (event.action, event.reason) == ("session.impersonated", "reproduce checkout bug")
    assert token not in detail(lead, account)


def test_impersonation_tokens_live_fifteen_minutes_without_a_refresh_token(lead, tenant):
    from datetime import timedelta

    from freezegun import freeze_time

    from tokens.models import RefreshToken, TokenFamily
    from tokens.selectors import access_token_resolve

    account = AccountFactory(tenant=tenant)
    with freeze_time("2026-05-01T10:00:00Z"):
        response = act(lead, account, "impersonate", reason="check the cart")
    body = response.content.decode()
    token = re.search(r'<code class="secret">([0-9a-f-]{36})</code>', body).group(1)
    assert "2026-05-01 10:15:00" in body
    family = TokenFamily.objects.get(account=account)
    assert family.is_impersonation and family.expires_at.isoformat() == "2026-05-01T10:15:00+00:00"
    assert not RefreshToken.objects.filter(account=account).exists()
    with freeze_time("2026-05-01T10:14:00Z"):
        assert access_token_resolve(tenant=tenant, token=token).account.pk == account.pk
    with freeze_time(family.expires_at + timedelta(seconds=1)), pytest.raises(AccessTokenExpired):
        access_token_resolve(tenant=tenant, token=token)


def test_impersonating_a_blocked_account_is_refused(lead, tenant):
    account = AccountFactory(tenant=tenant, is_active=False)
    before = state(account)
    act(lead, account, "impersonate")
    assert state(account) == before


def test_delete_needs_an_admin_and_the_typed_uid(lead, admin, tenant, lr):
    account = AccountFactory(tenant=tenant)
    before = state(account)
    assert act(lead, account, "delete", confirm_uid=account.uid).status_code == 403
    response = act(admin, account, "delete", confirm_uid=account.uid[:-1] + "x")
    assert response.status_code == 400 and "nothing was deleted" in response.content.decode()
    assert state(account) == before
    response = act(
        admin, account, "delete", confirm_uid=account.uid, reason="GDPR erasure", ticket="DPO-7"
    )
    assert response.status_code == 302 and response["Location"] == reverse("console:account_search")
    assert not Account.objects.filter(pk=account.pk).exists()
    assert lr.get(f"/identity/v2/manage/account/{account.uid}").json()["ErrorCode"] == 938
    event = AuditEvent.objects.filter(subject_uid=account.uid, action="account.deleted").get()
    assert (event.reason, event.ticket) == ("GDPR erasure", "DPO-7")


# The page itself -----------------------------------------------------------------------------


def test_the_account_page_shows_everything_about_the_account(admin, tenant):
    from accounts.services import account_identity_link
    from roles.commands import AccountRolesAssign, ContextGrant, RoleContextGrant
    from roles.services import account_roles_assign, role_contexts_upsert
    from security.services import backup_codes_generate

    account = AccountFactory(tenant=tenant, email="all@example.com", phone_id="+14155550100")
    account_identity_link(
        IdentityLink(provider="google", provider_id="g-9"),
        tenant=tenant,
        actor=Actor.system("t"),
        account=account,
    )
    _make_session(tenant, account)
    _make_totp(tenant, account)
    backup_codes_generate(
        BackupCodesGenerate(), tenant=tenant, actor=Actor.system("t"), account=account
    )
    _make_role(tenant, "support")
    account_roles_assign(
        AccountRolesAssign(roles=["support"]),
        tenant=tenant,
        actor=Actor.system("t"),
        account=account,
    )
    role_contexts_upsert(
        RoleContextGrant(contexts=[ContextGrant(name="store-7", roles=("support",))]),
        tenant=tenant,
        actor=Actor.system("t"),
        account=account,
    )
    _make_record(tenant, account, {"plan": "gold"})
    page = detail(admin, account)
    for expected in (
        "all@example.com",
        "+14155550100",
        "google",
        "g-9",
        'id="account-sessions">1<',
        'id="reset-totp"',
        "10 of 10 unused",
        "support",
        "store-7",
        "gold",
        "Orders",
        "Danger zone",
        "Regenerate backup codes",
        "Send password reset",
    ):
        assert expected in page, expected


def test_the_page_offers_only_what_the_role_may_do(client_for, tenant):
    account = AccountFactory(tenant=tenant)
    _make_totp(tenant, account)
    viewer_page = detail(client_for("Viewer"), account)
    for hidden in (
        'id="reset-totp"',
        'id="action-edit_profile"',
        'id="action-delete"',
        'id="action-block"',
    ):
        assert hidden not in viewer_page
    agent_page = detail(client_for("Agent"), account)
    assert 'id="reset-totp"' in agent_page and 'id="action-edit_profile"' in agent_page
    assert 'id="action-delete"' not in agent_page and 'id="action-impersonate"' not in agent_page


def test_record_data_is_escaped_on_the_page(agent, tenant):
    account = AccountFactory(tenant=tenant)
    _make_record(tenant, account, {"note": "<script>alert(1)</script>"})
    page = detail(agent, account)
    assert "<script>alert(1)" not in page


def test_remove_one_passkey(agent, tenant):
    from security.models import PasskeyCredential

    account = AccountFactory(tenant=tenant)
    for cid in ("keep-id", "drop-id"):
        PasskeyCredential.objects.create(
            tenant=tenant,
            account=account,
            credential_id=cid,
            public_key="pk",
            authenticator="YubiKey 5",
        )
    before = state(account)
    assert act(agent, account, "passkey_delete", passkey="someone-elses").status_code == 400
    assert state(account) == before
    assert act(agent, account, "passkey_delete", passkey="drop-id").status_code == 302
    assert list(
        PasskeyCredential.objects.filter(account=account).values_list("credential_id", flat=True)
    ) == ["keep-id"]
    assert last_event(account).action == "passkey.deleted"


def test_edit_profile_over_a_newer_change_is_refused_with_a_sentence(agent, tenant):
    from accounts import services as account_services
    from accounts.commands import AccountChanges
    from accounts.selectors import account_version

    account = AccountFactory(tenant=tenant, first_name="Ann", last_name="Lee")
    page = agent.get(url(account, "edit_profile")).content.decode()
    read_at = account_version(account)
    assert f'name="version" value="{read_at}"' in page
    # Someone else saves the account after the form was read.
    account_services.account_update(
        AccountChanges(values={"LastName": "Lee-Smith"}),
        tenant=tenant,
        actor=Actor.system("elsewhere"),
        account=account,
    )
    before = state(account)
    fields = {"first_name": "Anna", "last_name": "Lee", "version": read_at}
    response = act(agent, account, "edit_profile", **fields)
    assert response.status_code == 302
    assert state(account) == before
    shown = agent.get(response["Location"]).content.decode()
    assert "The account changed since it was read; read it again and retry." in shown
    # Read again, the same edit goes through.
    account.refresh_from_db()
    fields = {"first_name": "Anna", "last_name": "Lee-Smith", "version": account_version(account)}
    assert act(agent, account, "edit_profile", **fields).status_code == 302
    assert Account.objects.get(pk=account.pk).first_name == "Anna"
