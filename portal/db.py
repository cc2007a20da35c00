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
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.backends.signals import connection_created
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

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


@dataclass(frozen=True)
class _Compiled:
    alias: str  # the database the queryset routes to
    sql: str
    slots: tuple[int, ...]  # per SQL parameter: the index of the value it takes
    model: type[Model]
    fields: slice  # the model's own columns
    init_list: tuple[str, ...]  # their attribute names
    converters: dict  # column index -> (converters, expression), as the ORM applies them
    populators: list  # select_related objects, built from the same row
    annotations: dict  # annotation name -> column index


class CompiledQuery:
    """A queryset of a fixed shape, compiled to SQL once per process and run
    (prepared, see `preparing`) with new values: for hot unique-key reads, whose compiling
    cost more Python than the database spent running them.

    `build(*values)` makes the queryset (at most one row: slice it). It is called once,
    with `stand_ins`: distinct values of the right types that are never sent, which show
    where each value goes in the SQL. A value must not change the SQL's shape (None would
    turn `=` into `IS NULL`): callers pass real values only."""

    def __init__(self, build: Callable[..., QuerySet], *, stand_ins: tuple) -> None:
        if len(set(stand_ins)) != len(stand_ins):
            raise ValueError("stand-ins must be distinct")
        self._build, self._stand_ins = build, stand_ins
        self._compiled: _Compiled | None = None

    def _compile(self) -> _Compiled:
        if self._compiled is None:
            qs = self._build(*self._stand_ins)
            alias = qs.db
            compiler = qs.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            unknown = [p for p in params if p not in self._stand_ins]
            if unknown:
                raise RuntimeError(f"{qs.model.__name__} query compiled with unexpected parameters {unknown!r}")
            select, klass_info = compiler.select, compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            self._compiled = _Compiled(
                alias=alias,
                sql=sql,
                slots=tuple(self._stand_ins.index(p) for p in params),
                model=klass_info["model"],
                fields=slice(start, end),
                init_list=tuple(column[0].target.attname for column in select[start:end]),
                converters=compiler.get_converters([column[0] for column in select[: compiler.col_count]]),
                populators=get_related_populators(klass_info, select, alias),
                annotations=dict(compiler.annotation_col_map or {}),
            )
        return self._compiled

    def first(self, *values) -> Model | None:
        """The row the query finds for `values` as a model instance, or None."""
        compiled = self._compile()
        alias, connection = compiled.alias, connections[compiled.alias]
        with preparing(), connection.cursor() as cursor:
            cursor.execute(compiled.sql, [values[i] for i in compiled.slots])
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        for index, (converters, expression) in compiled.converters.items():
            for convert in converters:
                row[index] = convert(row[index], expression, connection)
        obj = compiled.model.from_db(alias, compiled.init_list, row[compiled.fields])
        for populator in compiled.populators:
            populator.populate(row, obj)
        for name, index in compiled.annotations.items():
            setattr(obj, name, row[index])
        return obj


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
