"""Dependencies the field-ops routes share: roles, the unit of work, the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request

from clientops_shared.auth import Principal, require_roles
from clientops_shared.runtime import runtime_of
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork

# who may do what (admin and service tokens may do everything)
Dispatch = Annotated[Principal, Depends(require_roles("dispatcher", "head"))]
Opener = Annotated[Principal, Depends(require_roles("dispatcher", "head", "manager"))]
Head = Annotated[Principal, Depends(require_roles("head"))]
Field = Annotated[Principal, Depends(require_roles("dispatcher", "head", "technician"))]
Reporter = Annotated[Principal, Depends(require_roles("dispatcher", "head", "technician",
                                                      "manager"))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def uow(request: Request) -> FieldOpsUnitOfWork:
    return runtime_of(request).uow()  # type: ignore[no-any-return]


def now(request: Request) -> datetime:
    """The current moment; tests and demos may swap ``app.state.clock``."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


UoW = Annotated[FieldOpsUnitOfWork, Depends(uow)]
Now = Annotated[datetime, Depends(now)]
