"""Bad input the shared HTTP plumbing answers for every service: 422 naming the field, no 500.

One small app built with the same calls every service's runtime makes
(``install_problem_handlers`` and the shared bounded types), driven by a table; and a real
uvicorn server to show a 500 leaves the keep-alive connection usable.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import sqlalchemy.exc
import uvicorn
from fastapi import FastAPI, Request
from pydantic import Field

from clientops_shared.http import install_problem_handlers
from clientops_shared.types import BoundedDate, BoundedInput, Money, Offset, page_limit

pytestmark = pytest.mark.unit


class Body(BoundedInput):
    NOT_NULL = frozenset({"name", "email"})

    name: str | None = None
    email: str | None = None
    note: str | None = None
    amount: Money | None = None
    on: date | None = None
    count: int = 0
    tags: list[str] = Field(default_factory=list)


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    seen: list[dict[str, Any]] = []
    app.state.seen = seen

    @app.post("/things")
    async def create(body: Body) -> dict[str, Any]:
        seen.append(body.model_dump(exclude_unset=True))
        return {"ok": True}

    @app.patch("/things/1")
    async def patch(body: Body) -> dict[str, Any]:
        seen.append(body.model_dump(exclude_unset=True))
        return {"ok": True}

    @app.get("/things")
    async def listing(q: str | None = None, offset: Offset = 0,
                      limit: page_limit(500) = 50,  # type: ignore[valid-type]
                      on: BoundedDate | None = None) -> dict[str, Any]:
        return {"offset": offset, "limit": limit}

    @app.get("/things/{name}")
    async def one(name: str) -> dict[str, str]:
        return {"name": name}

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        return dict(await request.form())

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/db-refused")
    async def db_refused() -> None:
        raise sqlalchemy.exc.DataError("INSERT", {}, ValueError("value out of int64 range"))

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {"status": "ok"}

    return app


JSON = {"content-type": "application/json"}
CASES: list[tuple[str, str, str, dict[str, Any], str]] = [
    # (case, method, url, request kwargs, the field the 422 names)
    ("NUL in a JSON string", "POST", "/things", {"json": {"note": "a\x00b"}}, "note"),
    ("NUL in a list item", "POST", "/things", {"json": {"tags": ["ok", "\x00"]}}, "tags.1"),
    ("NUL in a key", "POST", "/things", {"json": {"no\x00te": "x"}}, "no\\0te"),
    ("lone surrogate", "POST", "/things",
     {"content": b'{"note": "\\ud800"}', "headers": JSON}, "note"),
    ("JSON nested 100,000 deep", "POST", "/things",
     {"content": b"[" * 100_000 + b"]" * 100_000, "headers": JSON}, "body"),
    ("JSON nested 40 deep", "POST", "/things",
     {"content": b'{"tags": ' + b"[" * 40 + b"]" * 40 + b"}", "headers": JSON}, "tags"),
    ("NUL in the query", "GET", "/things?q=a%00b", {}, "q"),
    ("NUL in the path", "GET", "/things/a%00b", {}, "path"),
    ("NUL in a form", "POST", "/form", {"data": {"username": "a\x00"}}, "username"),
    ("offset beyond 64 bits", "GET", "/things?offset=99999999999999999999999", {}, "offset"),
    ("offset of 2^63", "GET", f"/things?offset={2**63}", {}, "offset"),
    ("limit of 0", "GET", "/things?limit=0", {}, "limit"),
    ("date 9999 in the query", "GET", "/things?on=9999-12-31", {}, "on"),
    ("date 0001 in the body", "POST", "/things", {"json": {"on": "0001-01-01"}}, "on"),
    ("date 9999 in the body", "POST", "/things", {"json": {"on": "9999-12-31"}}, "on"),
    ("date before 2000", "POST", "/things", {"json": {"on": "1999-12-31"}}, "on"),
    ("int beyond the column", "POST", "/things", {"json": {"count": 2**63}}, "count"),
    ("amount of 10^10", "POST", "/things", {"json": {"amount": "10000000000.00"}}, "amount"),
    ("amount of 10^12", "POST", "/things", {"json": {"amount": "1000000000000"}}, "amount"),
    ("amount with 3 places", "POST", "/things", {"json": {"amount": "1.005"}}, "amount"),
    ("amount 1e5", "POST", "/things", {"json": {"amount": "1e5"}}, "amount"),
    ("full-width digits", "POST", "/things", {"json": {"amount": "１２３"}}, "amount"),
    ("PATCH name null", "PATCH", "/things/1", {"json": {"name": None}}, "name"),
    ("PATCH email null", "PATCH", "/things/1", {"json": {"email": None}}, "email"),
    ("the database refuses a value", "GET", "/db-refused", {}, "body"),
]


@pytest.mark.parametrize(("case", "method", "url", "kwargs", "field"), CASES,
                         ids=[c[0] for c in CASES])
async def test_bad_input_is_a_422_naming_the_field(case: str, method: str, url: str,
                                                   kwargs: dict[str, Any], field: str) -> None:
    app = make_app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.request(method, url, **kwargs)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert app.state.seen == []  # the route never ran: nothing written


async def test_good_input_passes_the_same_doors() -> None:
    app = make_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.post("/things", json={"note": "Всё хорошо — ‘quotes’ ✓",
                                               "amount": "9999999999.99", "on": "2026-11-27",
                                               "count": 2**31 - 1, "tags": [[]] and ["a"]})
        assert r.status_code == 200, r.text
        assert (await client.patch("/things/1", json={"note": None})).status_code == 200
        assert (await client.get("/things?offset=1000000&on=2000-01-01")).status_code == 200
        assert (await client.post("/form", data={"username": "manager1"})).json() == {
            "username": "manager1"}
    assert app.state.seen[1] == {"note": None}  # an optional field may still be cleared


@pytest.fixture
def live_server() -> Iterator[tuple[str, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(make_app(), host="127.0.0.1", port=port, log_config=None,
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(10)


def _exchange(sock: socket.socket, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head


def test_a_500_keeps_the_keep_alive_connection(live_server: tuple[str, int]) -> None:
    with socket.create_connection(live_server, timeout=5) as sock:
        assert _exchange(sock, "/boom").startswith(b"HTTP/1.1 500")
        # the same TCP connection answers the next request (uvicorn would have closed it had
        # the exception reached the server)
        assert _exchange(sock, "/ok").startswith(b"HTTP/1.1 200")
        assert _exchange(sock, "/things?q=a%00").startswith(b"HTTP/1.1 422")
        assert _exchange(sock, "/ok").startswith(b"HTTP/1.1 200")


def test_the_guard_does_not_block_the_loop_on_large_bodies() -> None:
    # a 1 MB JSON body is parsed once more by the guard: well under a second
    app = make_app()
    body = b'{"tags": [' + b",".join(b'"abcdefgh"' for _ in range(100_000)) + b"]}"

    async def send() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.post("/things", content=body, headers=JSON)
            return r.status_code

    started = time.perf_counter()
    assert asyncio.run(send()) == 200
    assert time.perf_counter() - started < 5
