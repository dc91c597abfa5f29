"""FastAPI dependencies of the notifications API: the wired services, a write done once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from clientops_shared.auth import Principal, require_roles
from clientops_shared.runtime import runtime_of
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork


def deps_of(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.deps
    return deps


def new_uow(request: Request) -> NotificationsUnitOfWork:
    uow: NotificationsUnitOfWork = runtime_of(request).uow()
    return uow


Deps = Annotated[Dependencies, Depends(deps_of)]
Head = Annotated[Principal, Depends(require_roles("head"))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


async def idempotent(request: Request, actor: Principal, body: BaseModel | None,
                     run: Callable[[NotificationsUnitOfWork], Awaitable[Any]],
                     out: Callable[[Any], Any], status_code: int = 200) -> JSONResponse:
    """Run a write in one transaction, once per ``Idempotency-Key``: a retry gets the first
    answer back. The stored answer commits with the effect it describes."""
    key = request.headers.get("Idempotency-Key")
    fingerprint = {"path": request.url.path,
                   "body": body.model_dump(mode="json") if body is not None else None}
    try:
        async with new_uow(request) as uow:
            if key:
                recalled = await uow.recall_response(key, actor.username, fingerprint)
                if recalled is not None:
                    return JSONResponse(recalled[1], status_code=recalled[0])
            answer = out(await run(uow))
            if key:
                await uow.remember_response(key, actor.username, fingerprint, status_code,
                                            answer)
            await uow.commit()
    except IntegrityError:
        if not key:
            raise
        async with new_uow(request) as again:  # the same key committed meanwhile
            recalled = await again.recall_response(key, actor.username, fingerprint)
        if recalled is None:
            raise
        return JSONResponse(recalled[1], status_code=recalled[0])
    return JSONResponse(answer, status_code=status_code)
