"""The baseline of the read benchmarks: a bare FastAPI app, one asyncpg query per request.

    CONTRACTS_DSN=… BILLING_DSN=… uvicorn --factory bare_app:build
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from fastapi import FastAPI


def build() -> FastAPI:
    pools: dict[str, asyncpg.Pool] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pools["contracts"] = await asyncpg.create_pool(os.environ["CONTRACTS_DSN"], max_size=10)
        pools["billing"] = await asyncpg.create_pool(os.environ["BILLING_DSN"], max_size=10)
        yield
        for pool in pools.values():
            await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/clients/{client_id}")
    async def client(client_id: uuid.UUID) -> dict[str, Any]:
        row = await pools["contracts"].fetchrow("SELECT * FROM client WHERE id = $1", client_id)
        return dict(row) if row else {}

    @app.get("/invoices")
    async def invoices(client_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await pools["billing"].fetch(
            "SELECT * FROM invoice WHERE client_id = $1 ORDER BY issued_on DESC, number "
            "LIMIT 100", client_id)
        return [dict(r) for r in rows]

    return app
