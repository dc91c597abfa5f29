"""``Idempotency-Key`` for writes a client may retry: a retry gets the first answer back.

The stored answer commits in the same transaction as the effect it describes, so either both
exist or neither does; two concurrent first tries race on the key's primary key and the loser
returns the winner's answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from clientops_shared.auth import Principal
from clientops_shared.runtime import runtime_of
from clientops_shared.uow import UnitOfWork

U = TypeVar("U", bound=UnitOfWork)


async def idempotent(request: Request, actor: Principal, body: BaseModel | None,
                     run: Callable[[U], Awaitable[Any]], answer: Callable[[Any], Any], *,
                     status_code: int = 201, uow: U | None = None) -> JSONResponse:
    """Run ``run(uow)`` in one transaction, once per key; ``answer`` shapes its JSON body."""
    key = request.headers.get("Idempotency-Key")
    fingerprint = {"path": request.url.path,
                   "body": body.model_dump(mode="json") if body is not None else None}
    work: U = uow if uow is not None else runtime_of(request).uow()
    try:
        async with work:
            if key:
                recalled = await work.recall_response(key, actor.username, fingerprint)
                if recalled is not None:
                    return JSONResponse(recalled[1], status_code=recalled[0])
            work.defer_commit()
            shaped = answer(await run(work))
            if key:
                await work.remember_response(key, actor.username, fingerprint, status_code,
                                             shaped)
            await work.finish()
    except IntegrityError:
        if not key:
            raise
        async with runtime_of(request).uow() as again:  # the same key committed meanwhile
            recalled = await again.recall_response(key, actor.username, fingerprint)
        if recalled is None:
            raise
        return JSONResponse(recalled[1], status_code=recalled[0])
    return JSONResponse(shaped, status_code=status_code)
