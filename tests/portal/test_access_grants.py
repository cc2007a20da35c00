"""Time-boxed access: a Lead's grant for a ticket, break-glass, expiry, early end, and what a
grant lets its holder do outside their standing role."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from freezegun import freeze_time

from portal.access_grants import (
    access_grant_create,
    access_grant_revoke,
    break_glass_grant,
    break_glass_tell_admins,
    grant_allows,
    staff_may_on_account,
)
from portal.errors import DomainError
from portal.models import AccessGrant, AuditEvent
from portal.tenant_commands import AccessGrantCreate, AccessGrantRevoke, BreakGlassGrant
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(tenant, make_staff):
    return {
        "lead": make_staff("Lead", tenant, username="lee.lead"),
        # An agent who may only look at accounts of the tenant.
        "agent": make_staff("Agent", tenant, perms=["view_accounts"], username="ann.agent"),
        "admin": make_staff("Admin", tenant, username="ada.admin"),
    }


def _grant(tenant, granter, user, uids, *, scope="act", hours=2, ticket="SUP-88"):
    return access_grant_create(
        AccessGrantCreate(
            user_id=user.pk,
            uids=tuple(uids),
            scope=scope,
            ends_at=timezone.now() + timedelta(hours=hours),
            ticket=ticket,
            reason="customer on the phone",
        ),
        tenant=tenant,
        granter=granter,
    )


def _code(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def test_a_grant_lets_the_agent_act_on_that_account_only_until_it_ends(tenant, team):
    mine, other = AccountFactory(tenant=tenant), AccountFactory(tenant=tenant)
    agent = team["agent"]
    may = lambda uid: staff_may_on_account(  # noqa: E731
        user=agent, tenant=tenant, action="account.unlock", uid=uid
    )
    assert not may(mine.uid)
    grant = _grant(tenant, team["lead"], agent, [mine.uid])
    assert may(mine.uid) and not may(other.uid)
    # Never beyond an Agent's actions, whatever the grant.
    assert not staff_may_on_account(
        user=agent, tenant=tenant, action="account.delete", uid=mine.uid
    )
    event = AuditEvent.objects.get(action="access_grant.created")
    assert event.actor_label == "lee.lead" and event.ticket == "SUP-88"
    assert event.diff["user"] == "ann.agent" and event.subject_uid == mine.uid
    with freeze_time(grant.ends_at + timedelta(seconds=1)):
        assert not may(mine.uid)


def test_a_view_grant_shows_the_account_but_does_not_act(tenant, team, make_staff):
    viewer = make_staff("Viewer", tenant, perms=[])
    account = AccountFactory(tenant=tenant)
    _grant(tenant, team["lead"], viewer, [account.uid], scope="view")
    assert staff_may_on_account(user=viewer, tenant=tenant, action="account.view", uid=account.uid)
    assert not staff_may_on_account(
        user=viewer, tenant=tenant, action="account.block", uid=account.uid
    )


def test_only_a_lead_may_grant_and_never_to_themselves(tenant, team):
    account = AccountFactory(tenant=tenant)
    assert (
        _code(lambda: _grant(tenant, team["agent"], team["lead"], [account.uid]))
        == "access_grant.refused"
    )
    assert (
        _code(lambda: _grant(tenant, team["lead"], team["lead"], [account.uid]))
        == "access_grant.refused"
    )
    assert not AccessGrant.objects.exists()


def test_bad_grants_are_refused_with_every_reason_and_nothing_stored(tenant, team):
    account = AccountFactory(tenant=tenant)
    assert (
        _code(lambda: _grant(tenant, team["lead"], team["agent"], [account.uid], ticket=""))
        == "input.invalid"
    )
    assert _code(lambda: _grant(tenant, team["lead"], team["agent"], ["nobody"])) == "input.invalid"
    assert (
        _code(lambda: _grant(tenant, team["lead"], team["agent"], [account.uid], hours=500))
        == "input.invalid"
    )
    assert (
        _code(lambda: _grant(tenant, team["lead"], team["agent"], [account.uid], scope="own"))
        == "input.invalid"
    )
    assert not AccessGrant.objects.exists()


def test_a_grant_ends_early_by_its_holder_or_a_lead(tenant, team):
    account = AccountFactory(tenant=tenant)
    grant = _grant(tenant, team["lead"], team["agent"], [account.uid])
    access_grant_revoke(
        AccessGrantRevoke(grant_id=grant.pk, reason="ticket closed"),
        tenant=tenant,
        user=team["agent"],
    )
    assert not grant_allows(user=team["agent"], tenant=tenant, uid=account.uid, scope="act")
    assert AuditEvent.objects.filter(action="access_grant.revoked").count() == 1
    assert (
        _code(
            lambda: access_grant_revoke(
                AccessGrantRevoke(grant_id=grant.pk), tenant=tenant, user=team["lead"]
            )
        )
        == "access_grant.not_found"
    )


def test_break_glass_needs_the_tenant_a_reason_and_tells_the_admins(tenant, team, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    team["admin"].email = "ada@staff.example"
    team["admin"].save(update_fields=["email"])
    account = AccountFactory(tenant=tenant)

    def glass(**extra):
        return break_glass_grant(
            BreakGlassGrant(
                uids=(account.uid,), scope="act", minutes=extra.pop("minutes", 30), **extra
            ),
            tenant=tenant,
            user=team["agent"],
        )

    assert _code(lambda: glass(reason="takeover")) == "access_grant.refused"
    tenant.settings = {**tenant.settings, "break_glass_allowed": True}
    tenant.save()
    assert _code(lambda: glass(reason="")) == "input.invalid"
    assert _code(lambda: glass(reason="takeover", minutes=600)) == "input.invalid"
    grant = glass(reason="takeover in progress")
    assert grant.break_glass and grant_allows(
        user=team["agent"], tenant=tenant, uid=account.uid, scope="act"
    )
    assert AuditEvent.objects.get(action="access_grant.break_glass").reason == (
        "takeover in progress"
    )
    mail.outbox.clear()
    assert break_glass_tell_admins(grant.pk) == 1
    assert mail.outbox[0].to == ["ada@staff.example"]
    assert "ann.agent" in mail.outbox[0].subject
