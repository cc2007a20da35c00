"""Prepared statements for the hot, fixed-shape queries on PostgreSQL.

Parameters are bound on the server, but psycopg prepares nothing by itself (its
`prepare_threshold` is set beyond reach in settings): an unnamed statement is planned for
its actual parameters on every execution, so a query whose best plan depends on them (the
email-prefix search's `LIKE`, whose generic plan walked the whole account table) keeps its
good plan.

Statements run inside `preparing()` are prepared once per connection, so PostgreSQL parses
and plans them once instead of on every request (planning the account profile query cost
0.2-0.3 ms, three times its execution). Use it only around unique-key look-ups and writes of
a fixed shape, whose plan does not depend on the values: PostgreSQL may switch a prepared
statement to one generic plan. A connection pooler in front of PostgreSQL must support
protocol-level prepared statements (PgBouncer 1.21 or newer with `max_prepared_statements`).
"""

import contextlib
import contextvars

from django.db.backends.signals import connection_created

_preparing = contextvars.ContextVar("portal_db_preparing", default=False)
# Only queries and row writes: savepoints and other commands carry names that differ on
# every call, and preparing them would only churn psycopg's cache of prepared statements.
_PREPARABLE = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


@contextlib.contextmanager
def preparing():
    """Prepare (once per connection) the statements run inside the block."""
    token = _preparing.set(True)
    try:
        yield
    finally:
        _preparing.reset(token)


def _preparing_cursor_class(base: type) -> type:
    class PreparingCursor(base):
        def execute(self, query, params=None, *, prepare=None, **kwargs):
            if prepare is None and _preparing.get() and isinstance(query, str) and query.startswith(_PREPARABLE):
                prepare = True
            return super().execute(query, params, prepare=prepare, **kwargs)

    return PreparingCursor


_cursor_classes: dict[type, type] = {}


def _use_preparing_cursors(sender, connection, **kwargs) -> None:
    if connection.vendor != "postgresql" or not connection.features.uses_server_side_binding:
        return
    raw = connection.connection
    base = raw.cursor_factory
    if base not in _cursor_classes:
        _cursor_classes[base] = _preparing_cursor_class(base)
    raw.cursor_factory = _cursor_classes[base]


def connect_signals() -> None:
    connection_created.connect(_use_preparing_cursors, dispatch_uid="portal.db.preparing_cursors")
