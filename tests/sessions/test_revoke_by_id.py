"""One session revoked by its id (support), and short impersonation sessions."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from freezegun import freeze_time

from portal.audit import Actor
from portal.crypto import token_hash
from portal.models import AuditEvent
from tests.factories import AccountFactory
from tokens import selectors
from tokens.commands import AccountSessionRevoke, AccountSessionsRevoke, SessionIssue
from tokens.errors import (
    AccessTokenExpired,
    AccessTokenInvalid,
    RefreshTokenInvalid,
    SessionNotFound,
)
from tokens.models import AccessToken, RefreshToken, TokenFamily
from tokens.services import sessions

pytestmark = pytest.mark.django_db
STAFF = Actor.system("support")


def family_of(issued) -> TokenFamily:
    return AccessToken.objects.get(token_hash=token_hash(issued.access_token)).family


def live(tenant, issued) -> bool:
    try:
        selectors.access_token_resolve(tenant=tenant, token=issued.access_token)
    except (AccessTokenInvalid, AccessTokenExpired):
        return False
    return True


def snapshot():
    return (
        sorted(TokenFamily.objects.values_list("pk", "revoked_at")),
        sorted(AccessToken.objects.values_list("pk", "revoked_at", "refresh_allowed")),
        sorted(RefreshToken.objects.values_list("pk", "revoked_at")),
        AuditEvent.objects.count(),
    )


def test_revoke_by_id_ends_that_session_only_and_at_once(account, issue):
    one, two = issue(account), issue(account)
    refreshed = sessions.session_refresh(
        tenant=account.tenant, refresh_token=one.refresh_token, actor=STAFF
    )
    killed = sessions.account_session_revoke(
        AccountSessionRevoke(session_id=family_of(one).pk, reason="lost laptop", ticket="SUP-4"),
        tenant=account.tenant,
        account=account,
        actor=STAFF,
    )
    assert killed == 3  # the original and the refreshed access token, and the live refresh token
    # The cache entry is a tombstone already: no process accepts the tokens any more.
    assert (
        cache.get(selectors.access_cache_key(token_hash(refreshed.access_token)))
        == selectors.REVOKED
    )
    assert not live(account.tenant, one) and not live(account.tenant, refreshed)
    with pytest.raises(RefreshTokenInvalid):
        sessions.session_refresh(
            tenant=account.tenant, refresh_token=refreshed.refresh_token, actor=STAFF
        )
    assert live(account.tenant, two)
    assert sessions.session_refresh(
        tenant=account.tenant, refresh_token=two.refresh_token, actor=STAFF
    )
    event = AuditEvent.objects.get(action="session.revoked_by_id")
    assert (event.subject_uid, event.reason, event.ticket) == (account.uid, "lost laptop", "SUP-4")
    assert event.diff["session"] == [family_of(one).pk, family_of(one).pk]
    assert family_of(one).revoked_reason == TokenFamily.REVOKED_BY_CLIENT


def test_another_accounts_or_tenants_session_is_not_found_and_nothing_changes(
    tenant, account, other_tenant, issue
):
    neighbour = AccountFactory(tenant=tenant)
    stranger = AccountFactory(tenant=other_tenant)
    mine, theirs, foreign = issue(account), issue(neighbour), issue(stranger)
    ended = issue(account)
    sessions.account_session_revoke(
        AccountSessionRevoke(session_id=family_of(ended).pk),
        tenant=tenant,
        account=account,
        actor=STAFF,
    )
    before = snapshot()
    attempts = [
        (tenant, account, family_of(theirs).pk),  # a neighbour's session
        (tenant, stranger, family_of(foreign).pk),  # the right account, through another tenant
        (other_tenant, account, family_of(mine).pk),  # the right session, through another tenant
        (tenant, account, family_of(ended).pk),  # already revoked
        (tenant, account, 10**9),  # unknown
        (tenant, account, 10**30),  # past any id
        (tenant, account, -1),
        (tenant, account, "not-a-number"),
        (tenant, account, None),
    ]
    for acting_tenant, target, session_id in attempts:
        with pytest.raises(SessionNotFound):
            sessions.account_session_revoke(
                AccountSessionRevoke(session_id=session_id),
                tenant=acting_tenant,
                account=target,
                actor=STAFF,
            )
    assert snapshot() == before
    assert live(tenant, mine) and live(tenant, theirs) and live(other_tenant, foreign)


def test_an_expired_session_is_not_found(account, issue):
    issued = issue(account)
    family = family_of(issued)
    with freeze_time(family.expires_at + timedelta(seconds=1)), pytest.raises(SessionNotFound):
        sessions.account_session_revoke(
            AccountSessionRevoke(session_id=family.pk),
            tenant=account.tenant,
            account=account,
            actor=STAFF,
        )
    assert TokenFamily.objects.get(pk=family.pk).revoked_at is None


def test_revoke_all_records_the_ticket(account, issue):
    issue(account)
    sessions.account_sessions_revoke(
        AccountSessionsRevoke(reason="fraud", ticket="SUP-8"),
        tenant=account.tenant,
        account=account,
        actor=STAFF,
    )
    event = AuditEvent.objects.get(action="session.all_revoked")
    assert (event.reason, event.ticket) == ("fraud", "SUP-8")


# --- access lifetime and sessions without a refresh token ------------------------------------


def test_access_lifetime_shortens_the_access_token_never_lengthens_it(tenant, issue):
    tenant.settings = {"access_token_lifetime_minutes": 30}
    tenant.save()
    account = AccountFactory(tenant=tenant)
    with freeze_time("2026-03-01T00:00:00Z"):
        now = timezone.now()
        short = issue(account, SessionIssue(access_lifetime_seconds=15 * 60), actor=STAFF)
        longer = issue(account, SessionIssue(access_lifetime_seconds=5 * 3600), actor=STAFF)
        zero = issue(account, SessionIssue(access_lifetime_seconds=0), actor=STAFF)
    assert short.access_expires_at == now + timedelta(minutes=15)
    assert longer.access_expires_at == now + timedelta(minutes=30)
    assert zero.access_expires_at == now + timedelta(minutes=30)
    assert AccessToken.objects.get(
        token_hash=token_hash(short.access_token)
    ).expires_at == now + timedelta(minutes=15)
    with freeze_time(now + timedelta(minutes=16)):
        assert not live(tenant, short)
        assert live(tenant, longer)


def test_a_session_without_refresh_ends_with_its_access_token(account, issue):
    with freeze_time("2026-03-01T00:00:00Z"):
        now = timezone.now()
        issued = issue(
            account,
            SessionIssue(
                reason="reproduce a bug",
                ticket="SUP-2",
                access_lifetime_seconds=15 * 60,
                refresh=False,
            ),
            actor=STAFF,
        )
    family = family_of(issued)
    assert issued.refresh_token == "" and not RefreshToken.objects.filter(family=family).exists()
    assert family.expires_at == issued.access_expires_at == now + timedelta(minutes=15)
    assert family.is_impersonation and family.reason == "reproduce a bug"
    event = AuditEvent.objects.get(action="session.impersonated")
    assert (event.reason, event.ticket) == ("reproduce a bug", "SUP-2")
    assert event.diff["refresh_expires_at"] == [None, None]
    with freeze_time(now + timedelta(minutes=10)):
        slid = sessions.access_token_slide(
            tenant=account.tenant, access_token=issued.access_token, actor=STAFF
        )
        assert slid.access_expires_at == family.expires_at  # sliding cannot outlive the session
        with pytest.raises(AccessTokenExpired):  # the session holds no refresh token to rotate
            sessions.session_refresh_by_access_token(
                tenant=account.tenant, access_token=slid.access_token, actor=STAFF
            )
    with freeze_time(now + timedelta(minutes=16)):
        assert not live(account.tenant, slid)
