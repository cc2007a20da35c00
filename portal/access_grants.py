"""Time-boxed access: a Lead gives a staff member access to one account, or a listed few,
for a ticket, to view or to act, until a time; break-glass is the same grant given to
oneself, with a mandatory reason, where the tenant allows it, and the admins are told.

Outside a live grant only the standing role and permissions count (`portal.staff`). A
grant expires by itself (its `ends_at` is compared on every check), can be ended early,
and every grant, break-glass and early end records an event. A grant never bypasses an
approval: what the tenant holds for a second person still waits (approvals.policy).
"""

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from portal import audit, events, staff, staff_mail
from portal.audit import Actor
from portal.errors import DomainError, FieldError, InvalidInput, register
from portal.errors import Kind as ErrorKind
from portal.models import AccessGrant, Tenant
from portal.tenant_commands import AccessGrantCreate, AccessGrantRevoke, BreakGlassGrant

UIDS_MAX = 100


@register
class AccessGrantRefused(DomainError):
    code = "access_grant.refused"
    kind = ErrorKind.FORBIDDEN
    title = "Access grant refused"
    default_message = "You may not give this access."


@register
class AccessGrantNotFound(DomainError):
    code = "access_grant.not_found"
    kind = ErrorKind.NOT_FOUND
    title = "Grant not found"
    default_message = "There is no such live grant."


def _checked(
    *, tenant: Tenant, uids: tuple[str, ...], scope: str, ticket: str, reason: str
) -> list[str]:
    problems = []
    wanted = list(dict.fromkeys(uid.strip() for uid in uids if uid.strip()))
    if not wanted or len(wanted) > UIDS_MAX:
        problems.append(FieldError("uids", f"From 1 to {UIDS_MAX} account UIDs."))
    else:
        found = set(
            Account.objects.filter(tenant=tenant, uid__in=wanted).values_list("uid", flat=True)
        )
        unknown = sorted(set(wanted) - found)
        if unknown:
            problems.append(FieldError("uids", f"No such account: {', '.join(unknown)}."))
    if scope not in AccessGrant.SCOPES:
        problems.append(FieldError("scope", "view or act."))
    if not reason.strip():
        problems.append(FieldError("reason", "Say why.", "required"))
    if len(reason) > 500 or len(ticket) > 200:
        problems.append(FieldError("reason", "At most 500 characters (ticket: 200)."))
    if problems:
        raise InvalidInput(field_errors=problems)
    return wanted


def _record(kind: str, grant: AccessGrant, *, actor: Actor) -> None:
    audit.record(
        tenant=grant.tenant,
        actor=actor,
        action=kind,
        subject_uid=grant.uids[0] if len(grant.uids) == 1 else "",
        reason=grant.reason,
        ticket=grant.ticket,
        changes={
            "grant": grant.pk,
            "user": grant.user.get_username(),
            "uids": grant.uids,
            "scope": grant.scope,
            "ends_at": grant.ends_at.isoformat(),
        },
    )


@transaction.atomic
@events.emits("access_grant.created")
def access_grant_create(command: AccessGrantCreate, *, tenant: Tenant, granter) -> AccessGrant:
    """A grant from a Lead (or higher, with manage_accounts) to another staff member."""
    if not staff.staff_may(user=granter, tenant=tenant, action="access.grant"):
        raise AccessGrantRefused("Giving access needs a Lead with the permission to act.")
    grantee = get_user_model().objects.filter(pk=command.user_id, is_active=True).first()
    if grantee is None or staff.staff_role(user=grantee) is None:
        raise InvalidInput(field_errors=[FieldError("user_id", "A staff member with a role.")])
    if grantee.pk == granter.pk:
        raise AccessGrantRefused("Access for oneself is break-glass, not a grant.")
    if not command.ticket.strip():
        raise InvalidInput(field_errors=[FieldError("ticket", "Name the ticket.", "required")])
    uids = _checked(
        tenant=tenant,
        uids=command.uids,
        scope=command.scope,
        ticket=command.ticket,
        reason=command.reason,
    )
    now = timezone.now()
    longest = timedelta(hours=int(tenant.setting("access_grant_max_hours")))
    if not now < command.ends_at <= now + longest:
        raise InvalidInput(
            field_errors=[
                FieldError(
                    "ends_at", f"A time in the next {longest.total_seconds() // 3600:.0f} hours."
                )
            ]
        )
    grant = AccessGrant.objects.create(
        tenant=tenant,
        user=grantee,
        uids=uids,
        scope=command.scope,
        ticket=command.ticket.strip(),
        reason=command.reason.strip(),
        ends_at=command.ends_at,
        granted_by_label=granter.get_username(),
    )
    _record("access_grant.created", grant, actor=Actor.staff(granter))
    return grant


@transaction.atomic
@events.emits("access_grant.break_glass")
def break_glass_grant(command: BreakGlassGrant, *, tenant: Tenant, user) -> AccessGrant:
    """A short grant to oneself, where the tenant allows it; the tenant's admins are emailed."""
    if not tenant.setting("break_glass_allowed"):
        raise AccessGrantRefused("This tenant does not allow break-glass access.")
    if staff.staff_role(user=user) is None:
        raise AccessGrantRefused("Break-glass access is for staff with a role.")
    uids = _checked(
        tenant=tenant,
        uids=command.uids,
        scope=command.scope,
        ticket=command.ticket,
        reason=command.reason,
    )
    longest = int(tenant.setting("break_glass_max_minutes"))
    if not 1 <= command.minutes <= longest:
        raise InvalidInput(field_errors=[FieldError("minutes", f"From 1 to {longest} minutes.")])
    grant = AccessGrant.objects.create(
        tenant=tenant,
        user=user,
        uids=uids,
        scope=command.scope,
        ticket=command.ticket.strip(),
        reason=command.reason.strip(),
        ends_at=timezone.now() + timedelta(minutes=command.minutes),
        break_glass=True,
        granted_by_label=user.get_username(),
    )
    _record("access_grant.break_glass", grant, actor=Actor.staff(user))
    transaction.on_commit(lambda: break_glass_tell_admins(grant.pk), robust=True)
    return grant


@transaction.atomic
@events.emits("access_grant.revoked")
def access_grant_revoke(command: AccessGrantRevoke, *, tenant: Tenant, user) -> AccessGrant:
    """End a live grant now: its holder, or a Lead who may give access, may."""
    grant = (
        AccessGrant.objects.select_for_update()
        .select_related("user", "tenant")
        .filter(
            tenant=tenant, pk=command.grant_id, revoked_at__isnull=True, ends_at__gt=timezone.now()
        )
        .first()
    )
    if grant is None:
        raise AccessGrantNotFound()
    if grant.user_id != user.pk and not staff.staff_may(
        user=user, tenant=tenant, action="access.grant"
    ):
        raise AccessGrantRefused("Only its holder or a Lead may end a grant.")
    grant.revoked_at, grant.revoked_by_label = timezone.now(), user.get_username()
    grant.save(update_fields=["revoked_at", "revoked_by_label"])
    audit.record(
        tenant=tenant,
        actor=Actor.staff(user),
        action="access_grant.revoked",
        subject_uid=grant.uids[0] if len(grant.uids) == 1 else "",
        reason=command.reason,
        changes={"grant": grant.pk, "user": grant.user.get_username()},
    )
    return grant


@events.upkeep
def break_glass_tell_admins(grant_id: int) -> int:
    """Email the tenant's admins (administer_tenant) about a break-glass grant."""
    grant = AccessGrant.objects.select_related("tenant", "user").filter(pk=grant_id).first()
    if grant is None:
        return 0
    admins: list[Any] = []
    for user, perms in staff.tenant_staff_list(tenant=grant.tenant):
        person: Any = user
        if "administer_tenant" in perms and person.email and person.pk != grant.user_id:
            admins.append(person)
    who = grant.user.get_username()
    body = (
        f"{who} gave themselves {grant.scope} access to "
        f"{', '.join(grant.uids)} until {grant.ends_at:%Y-%m-%d %H:%M} UTC.\n\n"
        f"Reason: {grant.reason}\nTicket: {grant.ticket or '-'}\n\n"
        f"Audit log: {staff_mail.console_url('/console/audit/')}\n"
    )
    return staff_mail.email_staff(
        admins, subject=f"Break-glass access on {grant.tenant.name} by {who}", body=body
    )


@events.reads
def grant_allows(*, user, tenant: Tenant, uid: str, scope: str) -> bool:
    """Whether a live grant lets `user` `scope` (view, act) account `uid` of `tenant`; a
    grant to act lets them view too."""
    scopes = (AccessGrant.ACT,) if scope == AccessGrant.ACT else AccessGrant.SCOPES
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    # A person holds few live grants: their account lists are read and searched here.
    held = AccessGrant.objects.filter(
        tenant=tenant,
        user_id=user.pk,
        revoked_at__isnull=True,
        ends_at__gt=timezone.now(),
        scope__in=scopes,
    ).values_list("uids", flat=True)
    return any(uid in uids for uids in held)


@events.reads
def live_grants(*, tenant: Tenant, user=None):
    found = AccessGrant.objects.filter(
        tenant=tenant, revoked_at__isnull=True, ends_at__gt=timezone.now()
    ).select_related("user")
    return found.filter(user_id=user.pk) if user is not None else found


# What a grant to act allows on its accounts: what an Agent may do there.
ACT_ACTIONS: frozenset[str] = staff.ROLE_ACTIONS[staff.AGENT] - {"account.view", "audit.view"}


@events.reads
def staff_may_on_account(*, user, tenant: Tenant, action: str, uid: str) -> bool:
    """Whether `user` may do console `action` on account `uid`: their standing role and
    permission, or else a live grant for that account (view: see it; act: also an Agent's
    actions on it)."""
    if staff.staff_may(user=user, tenant=tenant, action=action):
        return True
    if action == "account.view":
        return grant_allows(user=user, tenant=tenant, uid=uid, scope=AccessGrant.VIEW)
    if action in ACT_ACTIONS:
        return grant_allows(user=user, tenant=tenant, uid=uid, scope=AccessGrant.ACT)
    return False
