"""Set-based writes: many rows in one statement, whatever their number.

``insert_rows``: one ``INSERT … SELECT FROM unnest(arrays)`` (any size of batch, ON CONFLICT
and RETURNING as a suffix). For the largest batches (an invoice run writes thousands of rows a
transaction) the binary ``COPY`` protocol is 2–4× cheaper for the server than unnesting arrays:
``copy_rows`` COPYs straight into a table whose rows cannot conflict (fresh keys);
``copy_insert`` COPYs into a temporary table dropped at the commit and moves the rows on with
one ``INSERT … SELECT`` that keeps ON CONFLICT / RETURNING, so idempotence stays the unique
key's. Both run on the session's own connection, inside its transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


@cache
def _array_type(column: sa.Column[Any]) -> str:
    return f"{column.type.compile(dialect=_DIALECT)}[]"


def _statement(table: sa.Table, columns: Sequence[str], suffix: str) -> sa.TextClause:
    casts = ", ".join(f"CAST(:{name} AS {_array_type(table.c[name])})" for name in columns)
    names = ", ".join(f'"{name}"' for name in columns)
    return sa.text(f'INSERT INTO "{table.name}" ({names}) '
                   f"SELECT * FROM unnest({casts}) {suffix}")


async def insert_rows(session: AsyncSession, table: sa.Table,
                      rows: Sequence[Mapping[str, Any]], *, suffix: str = ""
                      ) -> sa.CursorResult[Any]:
    """Insert ``rows`` (same keys each) in one statement; ``suffix`` may add ON CONFLICT /
    RETURNING."""
    columns = list(rows[0])
    params = {name: [row[name] for row in rows] for name in columns}
    for name in columns:  # text() binds raw values: JSON goes to the driver as text
        if isinstance(table.c[name].type, sa.JSON):
            params[name] = [None if v is None else json.dumps(v) for v in params[name]]
    result = await session.execute(_statement(table, columns, suffix), params)
    return result  # type: ignore[return-value]


def any_uuid(values: Sequence[Any]) -> Any:
    """``= ANY(:array)``: one array parameter instead of an IN list of hundreds."""
    return sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(postgresql.UUID())))


async def _driver(session: AsyncSession) -> Any:
    """The session's asyncpg connection, inside the session's transaction (SQLAlchemy begins
    it on the first statement; a COPY must not run before that, outside it)."""
    conn = await session.connection()
    driver: Any = (await conn.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        await conn.execute(sa.text("SELECT 1"))  # lets SQLAlchemy send its BEGIN
    return driver


def _records(table: sa.Table, columns: Sequence[str], records: Sequence[Sequence[Any]]
             ) -> Sequence[Sequence[Any]]:
    """The driver's COPY codec takes JSON columns as text: dump what is not text yet."""
    json_at = [n for n, name in enumerate(columns) if isinstance(table.c[name].type, sa.JSON)]
    if not json_at:
        return records
    out = []
    for record in records:
        values = list(record)
        for n in json_at:
            if values[n] is not None and not isinstance(values[n], str):
                values[n] = json.dumps(values[n])
        out.append(values)
    return out


async def copy_rows(session: AsyncSession, table: sa.Table, columns: Sequence[str],
                    records: Sequence[Sequence[Any]]) -> None:
    """COPY ``records`` (tuples in the order of ``columns``) into ``table``, in the session's
    transaction. For rows that cannot conflict (fresh keys); a conflict raises, like INSERT."""
    if not records:
        return
    driver = await _driver(session)
    await driver.copy_records_to_table(table.name, records=_records(table, columns, records),
                                       columns=list(columns), schema_name=table.schema)


async def copy_insert(session: AsyncSession, table: sa.Table, columns: Sequence[str],
                      records: Sequence[Sequence[Any]], *, suffix: str = ""
                      ) -> sa.CursorResult[Any]:
    """COPY ``records`` into a temporary table shaped like ``table`` (dropped at the commit),
    then move them into ``table`` with one ``INSERT … SELECT`` ending in ``suffix``
    (ON CONFLICT … / RETURNING …): binary COPY's speed with INSERT's conflict handling.
    Three statements whatever the size; their texts never change, so they stay prepared."""
    names = ", ".join(f'"{name}"' for name in columns)
    temp = f'"bulk_{table.name}"'
    # only the columns' types (no constraints, no defaults); IF NOT EXISTS: a second call in
    # the same transaction finds it, empty, since the move below deletes what it moves
    await session.execute(sa.text(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {temp} ON COMMIT DROP AS "
        f"SELECT {names} FROM {_qualified(table)} WITH NO DATA"))
    driver = await _driver(session)
    await driver.copy_records_to_table(f"bulk_{table.name}", schema_name="pg_temp",
                                       records=_records(table, columns, records),
                                       columns=list(columns))
    result = await session.execute(sa.text(
        f"WITH moved AS (DELETE FROM {temp} RETURNING {names}) "
        f"INSERT INTO {_qualified(table)} ({names}) SELECT {names} FROM moved {suffix}"))
    return result  # type: ignore[return-value]


def _qualified(table: sa.Table) -> str:
    return f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
