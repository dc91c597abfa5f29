"""Keyset pagination for every list: a page is "the next N rows after this one".

A list sorted by an index reads only the page it returns, however many rows come before it,
where ``OFFSET`` reads and drops every row before the page. The answer stays a JSON array (the
public contract); the way on is in headers: ``X-Next-Cursor`` (pass it back as ``after``) and a
``Link: <…>; rel="next"``. The cursor is the sort key of the page's last row, opaque to
clients (base64 of JSON), checked when it comes back: a bad one is a 422 on ``after``.

Totals: counting every matching row on each request is what made lists slow as they grew, so a
list that shows a total counts up to ``COUNT_CAP`` rows (``X-Total-Count: 1000+`` beyond).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Query, Request, Response
from pydantic import BaseModel, TypeAdapter

from clientops_shared.errors import InvalidInput

COUNT_CAP = 1000

After = Annotated[str | None, Query(max_length=1000, description=(
    "the X-Next-Cursor of the previous page; leave out for the first page"))]

_DECODERS: dict[type, Callable[[Any], Any]] = {
    str: str,
    int: int,
    uuid.UUID: uuid.UUID,
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
    Decimal: Decimal,
}


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, date | datetime) else
             str(v) if isinstance(v, uuid.UUID | Decimal) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()
                                    ).decode().rstrip("=")


def decode_cursor(raw: str, types: Sequence[type]) -> tuple[Any, ...]:
    """The sort key a cursor carries, each value parsed to its column's type."""
    try:
        values = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("wrong shape")
        return tuple(None if v is None else _DECODERS[t](v)
                     for v, t in zip(values, types, strict=True))
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("after", "the cursor is not one this list gave out; "
                                    "start again from the first page") from None


def after_key(columns: Sequence[sa.ColumnElement[Any]], values: Sequence[Any],
              descending: Sequence[bool] | None = None) -> sa.ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``columns`` (each asc unless marked);
    a value may be a bound parameter (``PageStatement``)."""
    desc = list(descending or [False] * len(columns))
    if not any(desc) or all(desc):
        row = sa.tuple_(*columns)
        key = sa.tuple_(*[v if isinstance(v, sa.ColumnElement) else sa.literal(v)
                          for v in values])
        return row < key if all(desc) else row > key
    # mixed directions: (a > x) or (a = x and b < y) or ...
    terms = []
    for i, (column, value) in enumerate(zip(columns, values, strict=True)):
        before = [c == v for c, v in zip(columns[:i], values[:i], strict=True)]
        terms.append(sa.and_(*before, column < value if desc[i] else column > value))
    # the leading column's bound as well, so an index on the order starts at the cursor
    first = columns[0] <= values[0] if desc[0] else columns[0] >= values[0]
    return sa.and_(first, sa.or_(*terms))


def next_page(request: Request, response: Response, rows: list[Any], limit: int,
              key: Callable[[Any], Sequence[Any]]) -> list[Any]:
    """Trim the extra row a query fetched (``LIMIT limit + 1``) and say where the next page
    starts, if there is one."""
    return _trim(request, response.headers.__setitem__, rows, limit, key)


def _trim(request: Request, set_header: Callable[[str, str], None], rows: list[Any], limit: int,
          key: Callable[[Any], Sequence[Any]]) -> list[Any]:
    if len(rows) <= limit:
        return rows
    rows = rows[:limit]
    cursor = encode_cursor(key(rows[-1]))
    set_header("X-Next-Cursor", cursor)
    url = request.url.remove_query_params(["after", "offset"]).include_query_params(after=cursor)
    set_header("Link", f'<{url}>; rel="next"')
    return rows


@functools.cache
def _list_of(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def page_response(request: Request, rows: list[Any], limit: int,
                  key: Callable[[Any], Sequence[Any]], model: type[BaseModel], *,
                  total: int | None = None) -> Response:
    """A page as the JSON array of ``model`` (its next cursor and capped total in headers),
    validated and serialised in one pass by pydantic: FastAPI's ``response_model`` path
    validates every row, turns it back into Python values and ``json.dumps`` them, which is
    what made a list's time follow the rows it renders (issue 14). The route keeps
    ``response_model=list[model]`` for its OpenAPI."""
    headers: dict[str, str] = {}
    if total is not None:
        headers["X-Total-Count"] = _total_text(total)
    rows = _trim(request, headers.__setitem__, rows, limit, key)
    adapter = _list_of(model)
    return Response(adapter.dump_json(adapter.validate_python(rows), by_alias=True),
                    headers=headers, media_type="application/json")


def _capped(query: sa.Select[Any], cap: int) -> sa.ScalarSelect[Any]:
    """``count(*)`` of ``query``'s first ``cap + 1`` rows, as a scalar subquery."""
    limited = (query.with_only_columns(sa.literal(1), maintain_column_froms=True)
               .order_by(None).limit(cap + 1).subquery())
    return sa.select(sa.func.count()).select_from(limited).scalar_subquery()


async def capped_count(session: Any, query: sa.Select[Any], cap: int = COUNT_CAP) -> int:
    """How many rows ``query`` matches, counted up to ``cap + 1`` (``> cap``: "more than")."""
    n: int = (await session.execute(sa.select(_capped(query, cap)))).scalar_one()
    return n


async def capped_counts(session: Any, queries: dict[str, sa.Select[Any]],
                        cap: int = COUNT_CAP) -> dict[str, int]:
    """Several capped counts in one statement (one round trip instead of one each)."""
    row = (await session.execute(sa.select(*[_capped(q, cap).label(name)
                                             for name, q in queries.items()]))).one()
    return {name: int(row[i]) for i, name in enumerate(queries)}


def total_header(response: Response, n: int, cap: int = COUNT_CAP) -> None:
    """``X-Total-Count``: the count, or ``1000+`` past the cap."""
    response.headers["X-Total-Count"] = _total_text(n, cap)


def _total_text(n: int, cap: int = COUNT_CAP) -> str:
    return f"{cap}+" if n > cap else str(n)


@dataclass(frozen=True)
class Order:
    """A list's sort: its columns (each ascending unless marked), the row keys holding their
    values (the cursor) and the values' types (to read a cursor back)."""

    columns: tuple[sa.ColumnElement[Any], ...]
    names: tuple[str, ...]
    types: tuple[type, ...]
    descending: tuple[bool, ...] = ()

    def by(self) -> list[sa.ColumnElement[Any]]:
        desc = self.descending or (False,) * len(self.columns)
        return [c.desc() if d else c for c, d in zip(self.columns, desc, strict=True)]

    def key(self, row: Any) -> tuple[Any, ...]:
        return tuple(row[name] for name in self.names)


_TOTAL = "_capped_total"


@dataclass(frozen=True)
class PageStatement:
    """A list's page statement and its capped count, with the cursor, limit and offset as bound
    parameters. A list can build it once per shape of its filters (which ones are given) and
    run it with each request's values: building a 20-column select, its count and its cache
    key anew on every request was about a sixth of a list request's CPU (issue 14)."""

    page: sa.Select[Any]
    count: sa.Select[Any]


def page_statement(base: sa.Select[Any], order: Order, *, cursor: bool) -> PageStatement:
    """``base`` paged in ``order``: ``limit + 1`` rows (``_limit``) from ``_offset``, after the
    cursor's values (``_after_0`` …) when ``cursor``, each row carrying the capped total."""
    total = _capped(base, COUNT_CAP)
    page = base
    if cursor:
        page = page.where(after_key(
            order.columns, [sa.bindparam(f"_after_{i}", type_=column.type)
                            for i, column in enumerate(order.columns)],
            order.descending or None))
    page = (page.add_columns(total.label(_TOTAL)).order_by(*order.by())
            .limit(sa.bindparam("_limit", type_=sa.Integer))
            .offset(sa.bindparam("_offset", type_=sa.Integer)))
    return PageStatement(page, sa.select(total))


async def run_page(session: Any, statement: PageStatement, order: Order, limit: int,
                   offset: int, after: str | None = None, params: dict[str, Any] | None = None
                   ) -> tuple[int, list[dict[str, Any]]]:
    """The total (capped) and ``limit + 1`` rows from the cursor on, for ``next_page``;
    ``params``: the values of the filters' bound parameters. ``statement`` must have been
    built with ``cursor=bool(after)``.

    One statement: the capped count rides on every row of the page as an uncorrelated scalar
    subquery (planned once), so a page costs one round trip, not two; only an empty page
    after a cursor or offset asks for the count on its own."""
    values = {**(params or {}), "_limit": limit + 1, "_offset": offset}
    if after:
        values.update({f"_after_{i}": v for i, v in
                       enumerate(decode_cursor(after, order.types))})
    result = await session.execute(statement.page, values)
    keys = list(result.keys())  # once, not a key view per row (``dict(RowMapping)``)
    rows = [dict(zip(keys, row, strict=True)) for row in result]
    if not rows:
        if not (after or offset):
            return 0, []
        return int((await session.execute(statement.count, params or {})).scalar_one()), []
    n = int(rows[0][_TOTAL])
    for row in rows:
        del row[_TOTAL]
    return n, rows


async def fetch_page(session: Any, base: sa.Select[Any], order: Order, limit: int, offset: int,
                     after: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    """``run_page`` of a statement built for this one request."""
    return await run_page(session, page_statement(base, order, cursor=bool(after)), order,
                          limit, offset, after)


def answer_page(request: Request, response: Response, page: tuple[int, list[Any]], limit: int,
                order: Order, model: type[BaseModel] | None = None) -> Any:
    """Headers of a page (capped total, next cursor) and its rows; with ``model``, the whole
    answer, serialised once (``page_response``)."""
    total, rows = page
    if model is not None:
        return page_response(request, rows, limit, order.key, model, total=total)
    total_header(response, total)
    return next_page(request, response, rows, limit, order.key)
