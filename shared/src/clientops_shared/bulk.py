"""Set-based writes: many rows in one ``INSERT … SELECT FROM unnest(arrays)`` statement.

One round trip and one statement per batch, whatever its size, instead of a multi-row VALUES
list the driver has to bind parameter by parameter.
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
