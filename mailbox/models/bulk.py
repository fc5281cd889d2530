"""Multi-row INSERTs and UPDATEs from plain tuples, for the sync's hot path.

Django's bulk_create builds a model instance per row and prepares every field of every row
through the SQL compiler: for 10,000 envelopes (a Message and a MessageLocation each) that
was over a second, a third of the first sync's envelope stage. Here the statement is built
once (SQLite: a multi-row VALUES per chunk, or one UPDATE per row; PostgreSQL: a COPY, which
costs it and psycopg a fraction of a statement per row), columns not given take their
field's default once, and only values that need converting (JSON, dates, bytes) go through
their field's `get_db_prep_save`.
"""

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

_CONVERTED_TYPES = frozenset({"JSONField", "DateTimeField", "DateField", "BinaryField"})
MAX_ROWS_PER_STATEMENT = 1000
IN_CHUNK = 900  # values per IN list: within SQLite's oldest parameter limit (999)


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning_ids: bool = False,
    ignore_conflicts: bool = False,
) -> list[int]:
    """INSERTs `rows` (values in the order of `fields`); returns the new ids, in row order,
    when asked. Other columns get their default; `auto_now_add` ones the current time."""
    if returning_ids and ignore_conflicts:
        raise ValueError("the ids of rows that may be skipped would not match the rows")
    if not rows:
        return []
    given = [model._meta.get_field(name) for name in fields]
    rest = [f for f in model._meta.concrete_fields if not f.primary_key and f not in given]
    constants = [_prepared(f, _default(f)) for f in rest]
    convert = [_converter(f) if f.get_internal_type() in _CONVERTED_TYPES else None for f in given]
    columns = [f.column for f in [*given, *rest]]
    params = [_row_params(convert, row, constants) for row in rows]
    if connection.vendor == "postgresql":
        with postgres_cursor() as cursor:
            return _postgres_insert(cursor, model, columns, params, returning_ids, ignore_conflicts)
    with connection.cursor() as cursor:
        ids: list[int] = []
        per_statement = _rows_per_statement(len(columns))
        for start in range(0, len(params), per_statement):
            chunk = params[start : start + per_statement]
            cursor.execute(
                _statement(model, columns, len(chunk), returning_ids, ignore_conflicts),
                [value for row in chunk for value in row],
            )
            if returning_ids:
                ids += [row[0] for row in cursor.fetchall()]
    return ids


@contextmanager
def postgres_cursor() -> Iterator[psycopg.Cursor[Any]]:
    """A psycopg cursor on Django's connection (its transaction, Django's exceptions) that
    sends values apart from the statement and prepares each statement once.

    Django's cursors bind values into the SQL text, so PostgreSQL lexed every value (a raw
    message as hex, a body's whole text) and parsed and planned every row of an executemany
    anew: a quarter of its CPU in the bodies stage. Measured on 10,000 rows: the raw-message
    INSERTs 0.81-0.93 s -> 0.46 s, the body UPDATEs 2.4 s -> 1.9 s."""
    connection.ensure_connection()
    raw = connection.connection
    threshold = raw.prepare_threshold
    raw.prepare_threshold = 0  # Django leaves it off (poolers); these stay on this connection
    try:
        with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
            yield cursor
    finally:
        raw.prepare_threshold = threshold


def update_rows(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Sets `fields` of each row given as (its values in the order of `fields`, then its pk).

    PostgreSQL: the rows by COPY into a temporary table, then one UPDATE ... FROM it. For
    10,000 message bodies that took 0.8 s where one pipelined UPDATE per row took 1.1-1.5 s,
    with a fifth of the client's CPU. Elsewhere one UPDATE per row (executemany): Django's
    bulk_update builds a CASE per field and row, which cost more than the rest of the sync."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table, pk = model._meta.db_table, model._meta.pk.column
    columns = [model._meta.get_field(name).column for name in fields]
    if connection.vendor != "postgresql":
        assignments = ", ".join(f"{quote(column)} = %s" for column in columns)
        sql = f"UPDATE {quote(table)} SET {assignments} WHERE {quote(pk)} = %s"  # noqa: S608 (names from the model, values as parameters)
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        return
    names = ", ".join(map(quote, [*columns, pk]))
    assignments = ", ".join(f"{quote(column)} = given.{quote(column)}" for column in columns)
    with transaction.atomic(), postgres_cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE given ON COMMIT DROP AS "  # noqa: S608 (names from the model)
            f"SELECT {names} FROM {quote(table)} WITH NO DATA"
        )
        _postgres_copy(cursor, model, [*columns, pk], rows, into="given")
        # Its row count known, PostgreSQL looks each row up by primary key; unknown, it
        # planned a scan of the whole table for every batch.
        cursor.execute("ANALYZE given")
        cursor.execute(
            f"UPDATE {quote(table)} SET {assignments} FROM given "  # noqa: S608 (names from the model)
            f"WHERE {quote(table)}.{quote(pk)} = given.{quote(pk)}"
        )
        cursor.execute("DROP TABLE given")  # now, for a caller that stays in its transaction


def rows_among(
    sql: str, values: Sequence[Any], params: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """`sql` (ending "... column") run with that column among `values`: on PostgreSQL one
    array parameter (`= ANY`), elsewhere IN lists in chunks the database takes. `params`:
    the values of placeholders in `sql` itself. Django's preparing of an IN list of 500
    values cost 10 ms a query more than this."""
    if not values:
        return []
    if connection.vendor == "postgresql":
        with postgres_cursor() as cursor:
            # Planned anew each time (not prepared), so for the table's size now: a plan
            # cached while a fresh install's tables were nearly empty (a scan of the whole
            # table) would be kept while they grow by thousands of rows a minute.
            cursor.execute(f"{sql} = ANY(%s)", [*params, list(values)], prepare=False)
            return cursor.fetchall()
    found: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(values), IN_CHUNK - len(params)):
            chunk = list(values[start : start + IN_CHUNK - len(params)])
            cursor.execute(f"{sql} IN ({', '.join(['%s'] * len(chunk))})", [*params, *chunk])
            found += cursor.fetchall()
    return found


def _row_params(convert: list, row: Sequence[Any], constants: list[Any]) -> list[Any]:
    values = zip(convert, row, strict=True)
    return [v if f is None else f(v) for f, v in values] + constants


def _converter(field: models.Field) -> Callable[[Any], Any]:
    """The field's own conversion, straight to the backend's adapter for the common values:
    through get_db_prep_save, JSON and dates cost more than the rest of an envelope's row."""
    kind, ops = field.get_internal_type(), connection.ops
    if kind == "JSONField":
        encoder = field.encoder  # type: ignore[attr-defined]
        return lambda value: ops.adapt_json_value(value, encoder)
    if kind == "DateTimeField" and settings.USE_TZ:
        return lambda value: (
            ops.adapt_datetimefield_value(value)
            if isinstance(value, dt.datetime) and value.tzinfo is not None
            else _prepared(field, value)  # naive or None: as Django would have it
        )
    if kind == "BinaryField":  # both drivers take bytes as a BLOB / bytea themselves
        return lambda value: value if isinstance(value, bytes) else _prepared(field, value)
    return lambda value: _prepared(field, value)


def _postgres_insert(
    raw_cursor: Any,
    model: type[models.Model],
    columns: list[str],
    params: list[list[Any]],
    returning_ids: bool,
    ignore_conflicts: bool,
) -> list[int]:
    """New rows by COPY: per row it costs PostgreSQL and psycopg a fraction of an INSERT
    (10,000 raw messages: 0.15 s against 0.3-0.5 s pipelined). A row that conflicts fails
    the whole COPY, so with `ignore_conflicts` it runs in a savepoint, and a conflict (a
    replayed batch, a twin sync) sends the rows again as INSERT ... ON CONFLICT DO NOTHING."""
    if returning_ids:
        return _postgres_copy_new_ids(raw_cursor, model, columns, params)
    if not ignore_conflicts:
        _postgres_copy(raw_cursor, model, columns, params)
        return []
    try:
        with transaction.atomic():  # a savepoint when already in a transaction
            _postgres_copy(raw_cursor, model, columns, params)
    except psycopg.errors.UniqueViolation:
        sql = _statement(model, columns, 1, returning_ids=False, ignore_conflicts=True)
        raw_cursor.executemany(sql, params)
    return []


def _postgres_copy_new_ids(
    raw_cursor: Any, model: type[models.Model], columns: list[str], params: list[list[Any]]
) -> list[int]:
    """The rows by COPY, with ids drawn from the table's own sequence first: 10,000 envelope
    rows took 0.28-0.32 s, against 0.41-0.50 s as pipelined INSERTs ... RETURNING."""
    table, pk = model._meta.db_table, model._meta.pk.column
    # The sequence looked up once (MATERIALIZED), not once for every id drawn.
    raw_cursor.execute(
        "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) "
        "SELECT nextval(s.seq) FROM s, generate_series(1, %s)",
        [table, pk, len(params)],
    )
    ids = [row[0] for row in raw_cursor.fetchall()]
    numbered = [[new_id, *row] for new_id, row in zip(ids, params, strict=True)]
    _postgres_copy(raw_cursor, model, [pk, *columns], numbered)
    return ids


def _postgres_copy(
    raw_cursor: Any,
    model: type[models.Model],
    columns: list[str],
    params: Sequence[Sequence[Any]],
    into: str | None = None,
) -> None:
    """COPY into the model's table (or `into`, a table of those columns), in PostgreSQL's
    binary format when psycopg knows every column's type: raw messages need not travel as
    hex text, nor dates and numbers be parsed from text (10,000 raw messages: 0.20-0.23 s
    against 0.33-0.39 s as text)."""
    quote = connection.ops.quote_name
    names = ", ".join(map(quote, columns))
    types = _copy_types(model, columns)
    form = " (FORMAT BINARY)" if types else ""
    table = quote(into or model._meta.db_table)
    with raw_cursor.copy(f"COPY {table} ({names}) FROM STDIN{form}") as copy:
        if types:
            copy.set_types(types)
        for row in params:
            copy.write_row(row)


def _copy_types(model: type[models.Model], columns: list[str]) -> list[str] | None:
    """The columns' types as psycopg names them ("varchar(64)" -> "varchar"), or None."""
    by_column = {field.column: field for field in model._meta.concrete_fields}
    types = []
    for column in columns:
        db_type = (by_column[column].db_type(connection) or "").split("(")[0]
        if psycopg.postgres.types.get(db_type) is None:
            return None
        types.append(db_type)
    return types


def _default(field: models.Field) -> Any:
    if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
        return timezone.now()
    return field.get_default()


def _prepared(field: models.Field, value: Any) -> Any:
    return field.get_db_prep_save(value, connection)


def _rows_per_statement(width: int) -> int:
    """SQLite: as many rows as its parameter limit allows in one multi-row VALUES."""
    connection.ensure_connection()
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, min(MAX_ROWS_PER_STATEMENT, limit // width))


def _statement(
    model: type[models.Model],
    columns: list[str],
    count: int,
    returning_ids: bool,
    ignore_conflicts: bool,
) -> str:
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "  # noqa: S608 (names from the model; values are parameters)
        f"VALUES {', '.join([row] * count)}"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning_ids:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    return sql
