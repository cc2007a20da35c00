"""Model instances from the rows of a query the ORM wrote once.

A hot read of a fixed shape (one account's profile, a refresh token locked with its session
and account) spends more Python compiling its SQL on every request than the database spends
running it. Such a read keeps the SQL the ORM made for it (`Query.sql_with_params`, with
stand-in values), runs it on a cursor, and turns each row back into instances the way the
ORM does: the backend's and each field's converters, then `Model.from_db`.
"""

import functools
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet


class StandIns:
    """Distinct values that stand for a query's parameters while its SQL is made; never sent."""

    def __init__(self, *values: Any) -> None:
        if len(set(values)) != len(values):
            raise ValueError("stand-ins must be distinct")
        self.values = values

    def sql(self, queryset: QuerySet) -> tuple[str, tuple[int, ...]]:
        """The queryset's SQL, and for each placeholder the index of the value it takes."""
        sql, params = queryset.query.sql_with_params()
        if any(param not in self.values for param in params):
            raise RuntimeError(f"{queryset.model.__name__} query with other parameters {params!r}")
        return sql, tuple(self.values.index(param) for param in params)


@functools.cache
def _columns(model: type[Model], alias: str) -> tuple[list[str], list[tuple[int, Any, Any]]]:
    fields = model._meta.concrete_fields
    connection = connections[alias]
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        # As the ORM applies them: the backend's converters, then the field's.
        for convert in connection.ops.get_db_converters(column) + column.get_db_converters(
            connection
        ):
            converters.append((index, convert, column))
    return [field.attname for field in fields], converters


def column_names(*models: type[Model]) -> list[str]:
    """The columns a query selecting these models' concrete fields, in turn, returns."""
    return [field.column for model in models for field in model._meta.concrete_fields]


def check_columns(selected: list[str], *models: type[Model]) -> None:
    """Refuse a row layout other than these models' columns, in turn (more may follow)."""
    expected = column_names(*models)
    if selected[: len(expected)] != expected:
        raise RuntimeError(f"the query selects {selected!r}, not {expected!r} first")


def instances(row, *models: type[Model], alias: str = "default") -> list[Model]:
    """One instance of each model, from its concrete fields' columns in `row`, in turn."""
    connection = connections[alias]
    built, start = [], 0
    for model in models:
        names, converters = _columns(model, alias)
        values = list(row[start : start + len(names)])
        for index, convert, expression in converters:
            values[index] = convert(values[index], expression, connection)
        built.append(model.from_db(alias, names, values))
        start += len(names)
    return built
