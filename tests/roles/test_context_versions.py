"""A role-context command may carry `expected_version` (roles.selectors.role_context_version):
a context that changed since is refused (RoleContextVersionStale) and nothing changes; the
current version passes. Each front door answers the refusal its own way."""

from datetime import datetime

import pytest
from django.utils import timezone
from freezegun import freeze_time

from portal.api.problems import problem_for
from portal.errors import InvalidValue, RoleContextVersionStale
from portal.lrapi.domain_errors import lr_error
from portal.models import AuditEvent
from roles import services
from roles.commands import (
    ContextGrant,
    RoleContextDelete,
    RoleContextGrant,
    RoleContextPermissionsRemove,
    RoleContextRolesRemove,
    RoleDelete,
)
from roles.models import RoleContext
from roles.selectors import role_context_version
from tests.roles.conftest import SYSTEM, upsert_context

pytestmark = pytest.mark.django_db


def stored(account, name="Home"):
    """What the context holds, or None when it is gone."""
    context = RoleContext.objects.filter(account=account, name=name).first()
    if context is None:
        return None
    return (
        sorted(role.name for role in context.roles.all()),
        list(context.additional_permissions),
        context.expiration,
        role_context_version(context),
    )


def version(account, name="Home") -> str:
    return role_context_version(RoleContext.objects.get(account=account, name=name))


def run(command, tenant, account):
    kind = type(command)
    service = {
        RoleContextGrant: services.role_contexts_upsert,
        RoleContextDelete: services.role_context_delete,
        RoleContextRolesRemove: services.role_context_roles_remove,
        RoleContextPermissionsRemove: services.role_context_permissions_remove,
    }[kind]
    return service(command, tenant=tenant, actor=SYSTEM, account=account)


def commands(expected: str):
    return [
        RoleContextGrant(
            contexts=(
                ContextGrant(
                    name="Home",
                    additional_permissions=("extra",),
                    keep_expiration=True,
                    expected_version=expected,
                ),
            )
        ),
        RoleContextRolesRemove(name="Home", roles=("editor",), expected_version=expected),
        RoleContextPermissionsRemove(name="Home", permissions=("a",), expected_version=expected),
        RoleContextDelete(name="Home", expected_version=expected),
    ]


@pytest.fixture
def home(tenant, account, editor):
    """A context read at one moment, then changed at a later one."""
    with freeze_time("2026-03-01 10:00:00.123456"):
        upsert_context(tenant, account, "Home", roles=["editor"], additional=["a"])
    read = version(account)
    with freeze_time("2026-03-01 10:05:00.654321"):
        upsert_context(tenant, account, "Home", additional=["b"])
    return read


def test_the_version_is_the_last_change_in_rfc_3339_with_microseconds(tenant, account, editor):
    with freeze_time("2026-03-01 10:00:00.000007"):
        upsert_context(tenant, account, "Home", roles=["editor"])
    assert version(account) == "2026-03-01T10:00:00.000007+00:00"
    assert datetime.fromisoformat(version(account)) == datetime.fromisoformat(
        "2026-03-01T10:00:00.000007Z"
    )


@pytest.mark.parametrize("index", range(4), ids=["grant", "roles", "permissions", "delete"])
def test_a_stale_command_is_refused_and_changes_nothing(tenant, account, home, index):
    before = stored(account)
    events = AuditEvent.objects.count()
    with pytest.raises(RoleContextVersionStale) as refused:
        run(commands(home)[index], tenant, account)
    assert refused.value.current_version == version(account) != home
    assert stored(account) == before
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("index", range(4), ids=["grant", "roles", "permissions", "delete"])
def test_the_current_version_passes(tenant, account, home, index):
    before = stored(account)
    run(commands(version(account))[index], tenant, account)
    assert stored(account) != before


def test_the_current_version_given_as_z_passes(tenant, account, home):
    current = version(account).replace("+00:00", "Z")
    run(RoleContextDelete(name="Home", expected_version=current), tenant, account)
    assert stored(account) is None


def test_a_grant_expecting_a_context_that_is_gone_creates_nothing(tenant, account, editor):
    command = RoleContextGrant(
        contexts=(
            ContextGrant(
                name="Home", roles=("editor",), expected_version=timezone.now().isoformat()
            ),
        )
    )
    with pytest.raises(RoleContextVersionStale) as refused:
        run(command, tenant, account)
    assert refused.value.current_version is None
    assert stored(account) is None


def test_a_stale_context_refuses_the_whole_grant(tenant, account, home):
    command = RoleContextGrant(
        contexts=(
            ContextGrant(name="Other", roles=("editor",)),
            ContextGrant(name="Home", additional_permissions=("c",), expected_version=home),
        )
    )
    with pytest.raises(RoleContextVersionStale):
        run(command, tenant, account)
    assert stored(account, "Other") is None


def test_an_expected_version_that_is_not_a_time_is_invalid(tenant, account, home):
    before = stored(account)
    for text in ("yesterday", "2026-03-01T10:00:00"):  # no offset: not a version
        with pytest.raises(InvalidValue) as refused:
            run(RoleContextDelete(name="Home", expected_version=text), tenant, account)
        assert refused.value.field == "expected_version"
    assert stored(account) == before


def test_the_version_moves_with_every_change_and_only_then(tenant, account, editor, viewer):
    with freeze_time("2026-03-01 10:00:00"):
        upsert_context(tenant, account, "Home", roles=["editor", "viewer"], additional=["a"])
    first = version(account)
    with freeze_time("2026-03-01 10:01:00"):
        upsert_context(tenant, account, "Home", roles=["editor"], additional=["a"])
    assert version(account) == first  # a grant of what it holds already changes nothing
    with freeze_time("2026-03-01 10:02:00"):
        run(RoleContextRolesRemove(name="Home", roles=("viewer",)), tenant, account)
    second = version(account)
    assert second > first
    with freeze_time("2026-03-01 10:03:00"):
        services.role_delete(RoleDelete(name="editor"), tenant=tenant, actor=SYSTEM)
    assert version(account) > second  # a role taken from the context by its deletion


def test_every_front_door_answers_a_stale_version():
    error = RoleContextVersionStale("2026-03-01T10:05:00.654321+00:00")
    answer = lr_error(error)
    assert (answer.status_code, answer.error_code) == (412, 9412)
    assert problem_for(error).status == 412
    assert "changed since it was read" in error.sentence()
