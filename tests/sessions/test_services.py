import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from portal.audit import Actor
from portal.crypto import token_hash
from portal.errors import AccountNotFound
from portal.models import AuditEvent
from tests.factories import AccountFactory
from tokens import selectors
from tokens.commands import (
    AccessTokenInvalidate,
    AccountSessionsRevoke,
    RefreshTokenRevoke,
    SessionIssue,
)
from tokens.errors import (
    AccessTokenExpired,
    AccessTokenInvalid,
    AccessTokenMissing,
    RefreshTokenInvalid,
    RefreshTokenMissing,
    SessionAccountBlocked,
)
from tokens.models import AccessToken, RefreshToken, TokenFamily
from tokens.services import sessions
from tokens.session_tasks import sessions_purge_task

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SYSTEM = Actor.system("test")

pytestmark = pytest.mark.django_db


def refresh(tenant, token):
    return sessions.session_refresh(tenant=tenant, refresh_token=token, actor=SYSTEM)


def resolve(tenant, token):
    return selectors.access_token_resolve(tenant=tenant, token=token)


def test_issue_returns_dashed_guids_stored_only_as_hashes(account, issue, actions):
    issued = issue(account)

    assert GUID.match(issued.access_token) and GUID.match(issued.refresh_token)
    access = AccessToken.objects.get(account=account)
    refresh_row = RefreshToken.objects.get(account=account)
    assert access.token_hash == token_hash(issued.access_token)
    assert refresh_row.token_hash == token_hash(issued.refresh_token)
    for row in (access, refresh_row):
        values = " ".join(str(v) for v in row.__dict__.values())
        assert issued.access_token not in values and issued.refresh_token not in values
    assert access.hint == issued.access_token[:8]
    assert actions(subject_uid=account.uid) == ["session.issued"]
    assert resolve(account.tenant, issued.access_token).account == account


def test_issue_uses_tenant_lifetimes_with_refresh_capped_at_365_days(tenant, issue):
    tenant.settings = {
        "access_token_lifetime_minutes": 15,
        "refresh_token_lifetime_days": 900,
        "refresh_token_family_max_days": 1000,
    }
    tenant.save()
    account = AccountFactory(tenant=tenant)
    with freeze_time("2026-01-01T00:00:00Z"):
        issued = issue(account)
        now = timezone.now()
    assert issued.access_expires_at == now + timedelta(minutes=15)
    assert issued.refresh_expires_at == now + timedelta(days=365)


def test_family_absolute_lifetime_caps_every_refresh(tenant, issue):
    tenant.settings = {"refresh_token_lifetime_days": 60, "refresh_token_family_max_days": 10}
    tenant.save()
    account = AccountFactory(tenant=tenant)
    with freeze_time("2026-01-01T00:00:00Z") as clock:
        issued = issue(account)
        family_end = TokenFamily.objects.get(account=account).expires_at
        assert issued.refresh_expires_at == family_end
        clock.tick(timedelta(days=9))
        issued = refresh(tenant, issued.refresh_token)
        assert issued.refresh_expires_at == family_end
        clock.tick(timedelta(days=1, seconds=1))
        with pytest.raises(RefreshTokenInvalid):
            refresh(tenant, issued.refresh_token)


def test_issue_records_device_and_impersonation(account, issue, credential):
    ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    actor = Actor.credential(credential)
    issue(
        account,
        SessionIssue(
            reason="ticket 42: customer cannot sign in",
            device={"ip": "203.0.113.9", "user_agent": ua, "city": "Oslo", "country": "Norway"},
        ),
        actor=actor,
    )

    family = TokenFamily.objects.get(account=account)
    assert family.is_impersonation and family.actor_type == "credential"
    assert family.actor_id == str(credential.pk) and family.reason.startswith("ticket 42")
    assert (family.ip, family.city, family.country) == ("203.0.113.9", "Oslo", "Norway")
    assert (family.browser, family.os, family.device, family.device_type) == (
        "Safari",
        "iOS",
        "iPhone",
        "Mobile",
    )
    event = AuditEvent.objects.get(subject_uid=account.uid)
    assert event.action == "session.impersonated"
    assert event.actor_type == "credential" and event.reason.startswith("ticket 42")


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            ("Chrome", "Windows", "Computer", "Desktop"),
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Gecko/20100101 Firefox/121.0",
            ("Firefox", "macOS", "Mac", "Desktop"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
            ("Chrome", "Android", "Android device", "Mobile"),
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0",
            ("Edge", "Windows", "Computer", "Desktop"),
        ),
        ("python-requests/2.32.3", ("python-requests", "Unknown", "Unknown", "Unknown")),
        ("", ("", "", "", "")),
    ],
)
def test_user_agent_parsing(ua, expected):
    parsed = sessions.parse_user_agent(ua)
    assert (parsed["browser"], parsed["os"], parsed["device"], parsed["device_type"]) == expected


def test_issue_refuses_an_account_of_another_tenant(tenant, other_account):
    with pytest.raises(AccountNotFound):
        sessions.session_issue(SessionIssue(), tenant=tenant, account=other_account, actor=SYSTEM)
    assert not TokenFamily.objects.exists()


# --- rotation, grace window, reuse detection ------------------------------------------------


def test_refresh_rotates_the_pair(account, issue, actions):
    first = issue(account)
    second = refresh(account.tenant, first.refresh_token)

    assert second.refresh_token != first.refresh_token and second.access_token != first.access_token
    old = RefreshToken.objects.get(token_hash=token_hash(first.refresh_token))
    new = RefreshToken.objects.get(token_hash=token_hash(second.refresh_token))
    assert old.rotated_at is not None and old.replaced_by == new and new.family_id == old.family_id
    assert resolve(account.tenant, second.access_token).account_id == account.pk
    # The previous access token lives out its short lifetime.
    assert resolve(account.tenant, first.access_token).account_id == account.pk
    assert actions(subject_uid=account.uid) == ["session.issued", "session.refreshed"]


def test_repeat_within_grace_returns_the_same_successor_then_reuse_kills_the_family(
    tenant, issue, actions
):
    tenant.settings = {"refresh_reuse_grace_seconds": 5}
    tenant.save()
    account = AccountFactory(tenant=tenant)
    with freeze_time("2026-03-01T12:00:00Z") as clock:
        first = issue(account)
        child = refresh(tenant, first.refresh_token)
        clock.tick(timedelta(seconds=4))
        again = refresh(tenant, first.refresh_token)
        assert again == child
        assert RefreshToken.objects.filter(family__account=account).count() == 2

        clock.tick(timedelta(seconds=2))  # past the grace window
        with pytest.raises(RefreshTokenInvalid):
            refresh(tenant, first.refresh_token)

        family = TokenFamily.objects.get(account=account)
        assert family.revoked_at is not None and family.revoked_reason == "reuse"
        for token in (child.access_token, first.access_token):
            with pytest.raises(AccessTokenInvalid):
                resolve(tenant, token)
        with pytest.raises(RefreshTokenInvalid):
            refresh(tenant, child.refresh_token)
        assert not RefreshToken.objects.exclude(successor_encrypted="").exists()
    assert actions(subject_uid=account.uid) == [
        "session.issued",
        "session.refreshed",
        "session.refresh_repeated",
        "session.reuse_detected",
    ]


def test_zero_grace_means_any_repeat_is_reuse(tenant, issue):
    tenant.settings = {"refresh_reuse_grace_seconds": 0}
    tenant.save()
    account = AccountFactory(tenant=tenant)
    first = issue(account)
    child = refresh(tenant, first.refresh_token)
    assert (
        RefreshToken.objects.get(token_hash=token_hash(first.refresh_token)).successor_encrypted
        == ""
    )
    with pytest.raises(RefreshTokenInvalid):
        refresh(tenant, first.refresh_token)
    with pytest.raises(AccessTokenInvalid):
        resolve(tenant, child.access_token)


def test_sealed_successor_is_encrypted_and_erased_after_the_window(account, issue):
    first = issue(account)
    child = refresh(account.tenant, first.refresh_token)
    row = RefreshToken.objects.get(token_hash=token_hash(first.refresh_token))
    assert row.successor_encrypted
    assert child.refresh_token not in row.successor_encrypted
    assert child.access_token not in row.successor_encrypted

    # The purge erases it once the window has closed.
    assert sessions.sessions_purge(now=timezone.now())["erased"] == 0
    result = sessions.sessions_purge(now=row.successor_erase_at + timedelta(seconds=1))
    assert result["erased"] == 1
    row.refresh_from_db()
    assert row.successor_encrypted == "" and row.successor_erase_at is None


def test_the_predecessors_sealed_copy_is_unusable_once_the_successor_rotates_and_purge_erases_it(
    account, issue
):
    first = issue(account)
    child = refresh(account.tenant, first.refresh_token)
    refresh(account.tenant, child.refresh_token)
    predecessor = RefreshToken.objects.get(token_hash=token_hash(first.refresh_token))
    assert (
        predecessor.replaced_by.rotated_at is not None
    )  # a repeat can no longer be answered from it
    sessions.sessions_purge(now=predecessor.successor_erase_at + timedelta(seconds=1))
    predecessor.refresh_from_db()
    assert predecessor.successor_encrypted == "" and predecessor.successor_erase_at is None


def test_repeat_within_grace_after_successor_was_rotated_is_reuse(account, issue):
    first = issue(account)
    child = refresh(account.tenant, first.refresh_token)
    refresh(account.tenant, child.refresh_token)
    with pytest.raises(RefreshTokenInvalid):
        refresh(account.tenant, first.refresh_token)
    assert TokenFamily.objects.get(account=account).revoked_reason == "reuse"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_refresh_without_token_is_refused_as_missing(tenant, value):
    with pytest.raises(RefreshTokenMissing):
        refresh(tenant, value)


@pytest.mark.parametrize(
    "value", ["not-a-guid", "5e0c2a97-3b14-4d8f-a6e2-91c7f0b8d425", "1' OR '1'='1"]
)
def test_refresh_with_malformed_or_unknown_token_is_refused_as_invalid(tenant, value):
    with pytest.raises(RefreshTokenInvalid):
        refresh(tenant, value)


def test_refresh_of_another_tenants_token_is_invalid_and_changes_nothing(
    tenant, other_account, issue
):
    theirs = issue(other_account)
    with pytest.raises(RefreshTokenInvalid):
        refresh(tenant, theirs.refresh_token)
    row = RefreshToken.objects.get(account=other_account)
    assert row.rotated_at is None and row.revoked_at is None
    assert refresh(other_account.tenant, theirs.refresh_token).access_token


def test_expired_refresh_token_is_invalid_without_side_effect(account, issue):
    with freeze_time("2026-01-01T00:00:00Z") as clock:
        issued = issue(account)
        clock.tick(timedelta(days=61))
        with pytest.raises(RefreshTokenInvalid):
            refresh(account.tenant, issued.refresh_token)
    assert TokenFamily.objects.get(account=account).revoked_at is None


def test_refresh_accepts_uppercase_and_undashed_forms(account, issue):
    issued = issue(account)
    assert refresh(account.tenant, issued.refresh_token.upper().replace("-", "")).access_token


# --- resolve (validate) ----------------------------------------------------------------------


def test_resolve_errors(tenant, account, other_account, issue):
    with pytest.raises(AccessTokenMissing):
        resolve(tenant, "")
    for token in ("garbage", str(uuid.uuid4()), issue(other_account).access_token):
        with pytest.raises(AccessTokenInvalid):
            resolve(tenant, token)
    with freeze_time("2026-01-01T00:00:00Z") as clock:
        issued = issue(account)
        clock.tick(timedelta(minutes=61))
        with pytest.raises(AccessTokenExpired):
            resolve(tenant, issued.access_token)
        selectors.cache.clear()  # answered the same from the database
        with pytest.raises(AccessTokenExpired):
            resolve(tenant, issued.access_token)


# --- revoke, revoke all, invalidate ----------------------------------------------------------


def test_revoke_one_ends_its_session_only(account, issue, actions):
    one, two = issue(account), issue(account)
    killed = sessions.session_revoke(
        RefreshTokenRevoke(refresh_token=one.refresh_token), tenant=account.tenant, actor=SYSTEM
    )
    assert killed == 2
    with pytest.raises(AccessTokenInvalid):
        resolve(account.tenant, one.access_token)
    with pytest.raises(RefreshTokenInvalid):
        refresh(account.tenant, one.refresh_token)
    assert resolve(account.tenant, two.access_token)
    assert refresh(account.tenant, two.refresh_token)
    assert "session.revoked" in actions(subject_uid=account.uid)


def test_revoke_errors_change_nothing(tenant, account, other_account, issue):
    theirs = issue(other_account)
    mine = issue(account)
    child = refresh(tenant, mine.refresh_token)
    for value, error in [
        (None, RefreshTokenMissing),
        ("x", RefreshTokenInvalid),
        (theirs.refresh_token, RefreshTokenInvalid),
        (mine.refresh_token, RefreshTokenInvalid),
    ]:  # a rotated token cannot be revoked
        with pytest.raises(error):
            sessions.session_revoke(
                RefreshTokenRevoke(refresh_token=value), tenant=tenant, actor=SYSTEM
            )
    assert not TokenFamily.objects.filter(revoked_at__isnull=False).exists()
    assert resolve(other_account.tenant, theirs.access_token)
    assert resolve(tenant, child.access_token)


def test_account_sessions_revoke_kills_every_token_of_the_account_only(account, issue, actions):
    neighbour = AccountFactory(tenant=account.tenant)
    mine = [issue(account) for _ in range(3)]
    refresh(account.tenant, mine[0].refresh_token)
    theirs = issue(neighbour)

    killed = sessions.account_sessions_revoke(
        AccountSessionsRevoke(reason="password changed"),
        tenant=account.tenant,
        account=account,
        actor=SYSTEM,
    )
    # 4 live access tokens (one refreshed session has two) + 3 live refresh tokens.
    assert killed == 7
    assert not AccessToken.objects.filter(account=account, revoked_at__isnull=True).exists()
    assert not RefreshToken.objects.filter(account=account, revoked_at__isnull=True).exists()
    for issued in mine:
        with pytest.raises(AccessTokenInvalid):
            resolve(account.tenant, issued.access_token)
    assert resolve(account.tenant, theirs.access_token)
    event = AuditEvent.objects.get(action="session.all_revoked")
    assert event.subject_uid == account.uid and event.reason == "password changed"
    assert (
        sessions.account_sessions_revoke(
            AccountSessionsRevoke(), tenant=account.tenant, account=account, actor=SYSTEM
        )
        == 0
    )


def test_account_sessions_revoke_with_another_tenant_revokes_nothing(tenant, other_account, issue):
    theirs = issue(other_account)
    assert (
        sessions.account_sessions_revoke(
            AccountSessionsRevoke(), tenant=tenant, account=other_account, actor=SYSTEM
        )
        == 0
    )
    assert resolve(other_account.tenant, theirs.access_token)


def test_invalidate_keeps_the_refresh_token(account, issue, actions):
    issued = issue(account)
    sessions.access_token_invalidate(
        AccessTokenInvalidate(access_token=issued.access_token), tenant=account.tenant, actor=SYSTEM
    )
    with pytest.raises(AccessTokenInvalid):
        resolve(account.tenant, issued.access_token)
    assert refresh(account.tenant, issued.refresh_token).access_token
    assert actions(subject_uid=account.uid)[:2] == ["session.issued", "session.invalidated"]


def test_invalidate_with_prevent_refresh_ends_the_session(account, issue):
    issued = issue(account)
    sessions.access_token_invalidate(
        AccessTokenInvalidate(access_token=issued.access_token, prevent_refresh=True),
        tenant=account.tenant,
        actor=SYSTEM,
    )
    with pytest.raises(RefreshTokenInvalid):
        refresh(account.tenant, issued.refresh_token)
    with pytest.raises(AccessTokenInvalid):
        sessions.session_refresh_by_access_token(
            tenant=account.tenant, access_token=issued.access_token, actor=SYSTEM
        )


def test_invalidate_errors_change_nothing(tenant, account, other_account, issue):
    theirs = issue(other_account)
    for value, error in [
        (None, AccessTokenMissing),
        ("bad", AccessTokenInvalid),
        (str(uuid.uuid4()), AccessTokenInvalid),
        (theirs.access_token, AccessTokenInvalid),
    ]:
        with pytest.raises(error):
            sessions.access_token_invalidate(
                AccessTokenInvalidate(access_token=value), tenant=tenant, actor=SYSTEM
            )
    assert resolve(other_account.tenant, theirs.access_token)
    with freeze_time(timezone.now() + timedelta(hours=2)):
        mine = issue(account)
    with freeze_time(timezone.now() + timedelta(hours=4)), pytest.raises(AccessTokenExpired):
        sessions.access_token_invalidate(
            AccessTokenInvalidate(access_token=mine.access_token), tenant=tenant, actor=SYSTEM
        )
    assert not AuditEvent.objects.filter(action="session.invalidated").exists()


def test_refresh_by_access_token_is_single_use_and_rotates(account, issue):
    issued = issue(account)
    sessions.access_token_invalidate(
        AccessTokenInvalidate(access_token=issued.access_token), tenant=account.tenant, actor=SYSTEM
    )
    renewed = sessions.session_refresh_by_access_token(
        tenant=account.tenant, access_token=issued.access_token, actor=SYSTEM, expires_in_minutes=5
    )
    assert renewed.access_expires_at - timezone.now() <= timedelta(minutes=5)
    with pytest.raises(AccessTokenInvalid):
        sessions.session_refresh_by_access_token(
            tenant=account.tenant, access_token=issued.access_token, actor=SYSTEM
        )
    # The session's old refresh token was rotated with it.
    assert (
        RefreshToken.objects.get(token_hash=token_hash(issued.refresh_token)).rotated_at is not None
    )
    assert refresh(account.tenant, renewed.refresh_token)


def test_only_the_newest_access_token_can_refresh_the_session(account, issue):
    issued = issue(account)
    refresh(account.tenant, issued.refresh_token)
    with pytest.raises(AccessTokenInvalid):
        sessions.session_refresh_by_access_token(
            tenant=account.tenant, access_token=issued.access_token, actor=SYSTEM
        )


# --- purge -----------------------------------------------------------------------------------


def test_purge_deletes_expired_tokens_and_finished_sessions(account, issue):
    with freeze_time("2026-01-01T00:00:00Z"):
        old = issue(account)
    live = issue(account)
    result = sessions_purge_task()
    assert result["access"] == 1 and result["refresh"] == 1 and result["families"] == 1
    assert not AccessToken.objects.filter(token_hash=token_hash(old.access_token)).exists()
    assert resolve(account.tenant, live.access_token)
    assert TokenFamily.objects.count() == 1


def test_purge_keeps_revoked_refresh_tokens_until_they_expire(account, issue):
    first = issue(account)
    refresh(account.tenant, first.refresh_token)
    sessions.sessions_purge()
    assert RefreshToken.objects.filter(token_hash=token_hash(first.refresh_token)).exists()


def test_deleting_the_account_cascades(account, issue):
    issue(account)
    account.delete()
    assert (
        not TokenFamily.objects.exists()
        and not AccessToken.objects.exists()
        and not RefreshToken.objects.exists()
    )


def test_blocked_accounts_get_no_session_and_cannot_refresh(account, issue):
    issued = issue(account)
    account.is_active = False
    account.save()
    with pytest.raises(SessionAccountBlocked):
        issue(account)
    with pytest.raises(SessionAccountBlocked):
        refresh(account.tenant, issued.refresh_token)
    assert TokenFamily.objects.count() == 1
    assert RefreshToken.objects.get().rotated_at is None


def test_purge_runs_periodically():
    from django.conf import settings

    from portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["sessions-purge"]
    assert entry["task"] == "tokens.sessions_purge" and entry["schedule"] <= 60
    assert "tokens.sessions_purge" in app.tasks
