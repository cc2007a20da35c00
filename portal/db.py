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

from django.db import DatabaseError, connections, router
from django.db.backends.signals import connection_created
from django.db.models import Model, Q, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery, UpdateQuery

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
                raise RuntimeError(
                    f"{qs.model.__name__} query compiled with unexpected parameters {unknown!r}"
                )
            select, klass_info = compiler.select, compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            self._compiled = _Compiled(
                alias=alias,
                sql=sql,
                slots=tuple(self._stand_ins.index(p) for p in params),
                model=klass_info["model"],
                fields=slice(start, end),
                init_list=tuple(column[0].target.attname for column in select[start:end]),
                converters=compiler.get_converters(
                    [column[0] for column in select[: compiler.col_count]]
                ),
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


# model -> (alias, the INSERT's SQL, the compiler that prepares its values)
_INSERTS: dict[type[Model], tuple] = {}


def insert_new(obj: Model, *, own_save_only_guards_updates: bool = False) -> Model:
    """Insert `obj`, a new instance, as `obj.save()` would, with its INSERT statement
    compiled once per process and model (and prepared inside `preparing`): for rows written
    on hot paths (tokens, audit events), whose INSERT cost more to compile than to run.

    Anything this does not cover goes through `save()`: a model with its own save() (unless
    the caller vouches that it only guards updates), with parents, with pre_save/post_save
    receivers or without its primary key alone returned, a primary key already set, or a
    value that is an expression (which would change the SQL)."""
    model = type(obj)
    meta = model._meta
    alias = router.db_for_write(model, instance=obj)
    connection = connections[alias]
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    values = (
        [field.pre_save(obj, True) for field in fields]
        if obj._state.adding and obj.pk is None
        else None
    )
    if (
        values is None
        or not _plain_save(
            model, own_save_only_guards_updates=own_save_only_guards_updates, values=values
        )
        or meta.db_returning_fields != [meta.pk]
        or not connection.features.can_return_columns_from_insert
    ):
        obj.save(using=alias)
        return obj
    compiled = _INSERTS.get(model)
    if compiled is None or compiled[0] != alias:
        query = InsertQuery(model)
        # raw: the SQL is read off the values already prepared, not pre_save() run again.
        query.insert_values(fields, [obj], raw=True)
        compiler = query.get_compiler(using=alias)
        compiler.returning_fields = [meta.pk]
        [(sql, params)] = compiler.as_sql()
        if len(params) != len(fields):
            raise RuntimeError(f"{model.__name__} insert compiled with parameters {params!r}")
        query.objs = []  # the compiler is kept for its value preparation, not this row
        compiled = _INSERTS[model] = (alias, sql, compiler)
    _, sql, compiler = compiled
    params = [
        compiler.prepare_value(field, value) for field, value in zip(fields, values, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (pk,) = cursor.fetchone()
    setattr(obj, meta.pk.attname, pk)
    obj._state.adding, obj._state.db = False, alias
    return obj


def _plain_save(
    model: type[Model], *, values: list, own_save_only_guards_updates: bool = False
) -> bool:
    """Whether writing `values` with a statement compiled once is what save() would do: no
    own save() (unless it only guards updates and this is an insert), no parents, no
    pre_save/post_save receivers, and no value that is an expression (it would change the
    SQL)."""
    return (
        (model.save is Model.save or own_save_only_guards_updates)
        and not model._meta.parents
        and not pre_save.has_listeners(model)
        and not post_save.has_listeners(model)
        and not any(hasattr(value, "resolve_expression") for value in values)
    )


# (model, field names) -> (alias, the UPDATE's SQL)
_UPDATES: dict[tuple[type[Model], tuple[str, ...]], tuple] = {}


def update_saved(obj: Model, fields: tuple[str, ...]) -> None:
    """`obj.save(update_fields=fields)` with the UPDATE statement compiled once per process,
    model and fields (and prepared inside `preparing`). Falls back to save() where
    `insert_new` would: the model's own save(), receivers, parents, or a value that is an
    expression."""
    model = type(obj)
    meta = model._meta
    alias = obj._state.db or router.db_for_write(model, instance=obj)
    connection = connections[alias]
    targets = [meta.get_field(name) for name in fields]
    values = [field.pre_save(obj, False) for field in targets]
    if obj._state.adding or not _plain_save(model, values=values):
        obj.save(update_fields=fields)
        return
    compiled = _UPDATES.get((model, fields))
    if compiled is None or compiled[0] != alias:
        query = UpdateQuery(model)
        query.add_update_fields(
            [(field, None, value) for field, value in zip(targets, values, strict=True)]
        )
        query.add_q(Q(pk=obj.pk))
        sql, params = query.get_compiler(using=alias).as_sql()
        if len(params) != len(targets) + 1:
            raise RuntimeError(
                f"{model.__name__} update of {fields} compiled with parameters {params!r}"
            )
        compiled = _UPDATES[(model, fields)] = (alias, sql)
    _, sql = compiled
    params = [
        field.get_db_prep_save(value, connection=connection)
        for field, value in zip(targets, values, strict=True)
    ]
    params.append(meta.pk.get_db_prep_value(obj.pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")


def _preparing_cursor_class(base: type) -> type:
    class PreparingCursor(base):
        def execute(self, query, params=None, *, prepare=None, **kwargs):
            if (
                prepare is None
                and _preparing.get()
                and isinstance(query, str)
                and query.startswith(_PREPARABLE)
            ):
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
