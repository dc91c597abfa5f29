from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from billing import views
from billing.entrypoints.api import schemas
from clientops_shared.auth import CurrentUser
from clientops_shared.runtime import runtime_of

router = APIRouter(prefix="/api")


@router.get("/subscriptions", response_model=list[schemas.SubscriptionOut])
async def list_subscriptions(request: Request, response: Response, actor: CurrentUser,
                             contract_id: uuid.UUID | None = None,
                             client_id: uuid.UUID | None = None,
                             limit: Annotated[int, Query(ge=1, le=500)] = 50,
                             offset: Annotated[int, Query(ge=0)] = 0) -> Any:
    async with runtime_of(request).sessions() as session:
        total, rows = await views.subscriptions(session, actor, contract_id=contract_id,
                                                client_id=client_id, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return rows
