"""What the sections add to the base app's reads, registered from their `AppConfig.ready()`.

The LoginRadius profile shows fields a section keeps (`Roles`), and the account search has
filters a section answers (`has_mfa`, `role`). The base app owns these two registries and
reads them, so it imports no section (DESIGN.md, "Layers"), as `portal.events` does for
state changes. Registering the same entry again is a no-op (a ready() that runs twice in
tests); a different entry under a name already taken is an error.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

# Keys the base profile query itself puts in its jsonb column.
_RESERVED_KEYS = {"emails", "identities"}
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")


@dataclass(frozen=True)
class ProfileField:
    """A profile key whose value a section keeps.

    `sql(outer_account_id=...)` is a jsonb expression of the value for the account whose id
    column is `outer_account_id` (SQL), so it loads with the account on PostgreSQL; it must
    hold only model metadata, never input. `load(account=...)` reads the value of one
    account (one query) when it was not loaded. An empty value is shown as null, unless
    `show` turns the loaded value into what the profile shows (a flag that is false).
    `related` names a one-to-one relation of the account holding the value: where the
    profile is not one jsonb column (SQLite), the account query loads it (select_related),
    so `load` reads it without a query. `load_many(accounts=...)` reads the values of a
    page of accounts in one query (a dict by account id) where the profile is not one jsonb
    column, so a listed page is not one query per account.
    """

    key: str
    sql: Callable[..., str]
    load: Callable[..., Any]
    show: Callable[[Any], Any] | None = None
    related: str = ""
    load_many: Callable[..., dict[int, Any]] | None = None


_PROFILE_FIELDS: dict[str, ProfileField] = {}


def _register(registry: dict, name: str, entry) -> None:
    existing = registry.get(name)
    if existing is not None and existing != entry:
        raise ValueError(f"{name!r} is already registered: {existing!r}")
    registry[name] = entry


def register_profile_field(field: ProfileField) -> None:
    """Show `field` in every profile (its key keeps its place among the LoginRadius keys)."""
    if not _KEY.match(field.key) or field.key in _RESERVED_KEYS:
        raise ValueError(f"{field.key!r} cannot be a profile key")
    _register(_PROFILE_FIELDS, field.key, field)


def unregister_profile_field(key: str) -> None:
    """Drop the field of `key` (a test's own fields, or a profile without a section)."""
    _PROFILE_FIELDS.pop(key, None)


def profile_fields() -> tuple[ProfileField, ...]:
    """The registered profile fields, in the order they were registered."""
    return tuple(_PROFILE_FIELDS.values())


# A search filter's answer: `(tenant=..., value=...)` -> the ids of the accounts `value`
# selects, as a subquery. Without a tenant the searched queryset scopes it.
AccountIds = Callable[..., QuerySet]

_SEARCH_FILTERS: dict[str, AccountIds] = {}


def register_search_filter(name: str, account_ids: AccountIds) -> None:
    """Answer the account search filter `name` with `account_ids`."""
    _register(_SEARCH_FILTERS, name, account_ids)


def unregister_search_filter(name: str) -> None:
    """Drop the answer of filter `name` (a test's own, or a search without a section)."""
    _SEARCH_FILTERS.pop(name, None)


def search_filter(name: str) -> AccountIds | None:
    """The answer of search filter `name`, or None when no section gives one."""
    return _SEARCH_FILTERS.get(name)
