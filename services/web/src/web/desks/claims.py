"""The lawyer's claims desk (seed 000 §16): claims with their stage and answer deadline, the
overdue first; a claim moves to its next stage (or closes as settled / lost) with a note."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.entrypoints.pages.framework import (
    CheckedViewer,
    PageForbidden,
    Viewer,
    form_str,
    panels,
    redirect,
    render,
    viewer_with_roles,
)
from web.formatting import CLAIM_STAGE

router = APIRouter(prefix="/contracts/claims", include_in_schema=False)
DESK_ROLES = ("lawyer", "head", "manager")
ClaimsViewer = Annotated[Viewer, Depends(viewer_with_roles(*DESK_ROLES))]
NEXT = {"received": "answered", "answered": "negotiation", "negotiation": "court"}
CLOSED = ("resolved", "lost")


def next_steps(stage: str) -> list[str]:
    """Where a claim may go from its stage: the next one, or closed either way."""
    if stage in CLOSED:
        return []
    return [*([NEXT[stage]] if stage in NEXT else []), *CLOSED]


@router.get("")
async def claims(request: Request, viewer: ClaimsViewer,
                 stage: Annotated[str | None, Query(max_length=20)] = None,
                 flash: str | None = None, error: str | None = None) -> Response:
    params: dict[str, Any] = {"limit": 200}
    if stage in CLAIM_STAGE:
        params["stage"] = stage
    parts = await panels(claims=viewer.services.get("contracts", "/api/claims", **params),
                         clients=viewer.services.get("contracts", "/api/clients", limit=500))
    names = {str(c["id"]): c["name"] for c in (parts["clients"].data or [])}
    rows = sorted(parts["claims"].data or [],
                  key=lambda c: (c["stage"] in CLOSED, c.get("answer_due_on") or "9999"))
    return render(request, "desks/contracts/claims.html", {
        "p": parts, "rows": rows, "names": names, "stage": stage or "", "stages": CLAIM_STAGE,
        "next_steps": next_steps, "flash": "Стадия претензии изменена." if flash else None,
        "error": error})


@router.post("/{claim_id}/stage")
async def move(claim_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    if not viewer.has_role(*DESK_ROLES):
        raise PageForbidden("Претензии ведут юрист, руководитель и менеджер клиента.")
    form = await request.form()
    body = {"stage": form_str(form, "stage"), "note": form_str(form, "note") or None}
    try:
        await viewer.services.post("contracts", f"/api/claims/{claim_id}/stage", json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            said = "; ".join(exc.field_errors().values()) or exc.message
            return redirect("/contracts/claims?error=" + quote(said[:300]), request)
        raise
    return redirect("/contracts/claims?flash=moved", request)
