"""Sales at the contracts desk (seed 000 §12, §14): upsell deals by stage, handed over to a
manager picked by name, and the clients' feedback (reviews, wishes, testimonial letters,
case material)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from clientops_shared.runtime import runtime_of
from web.adapters.services import ServiceError
from web.desks.contracts import money_input
from web.entrypoints.pages.framework import (
    CheckedViewer,
    PageForbidden,
    Viewer,
    form_str,
    panel,
    panels,
    redirect,
    render,
    today,
    viewer_with_roles,
)
from web.formatting import DEAL_STAGE, FEEDBACK_KIND

router = APIRouter(prefix="/contracts", include_in_schema=False)
DEAL_ROLES = ("sales", "manager", "head")  # the contracts API's deal desk
FEEDBACK_ROLES = ("sales", "manager", "head", "lawyer")
DealViewer = Annotated[Viewer, Depends(viewer_with_roles(*DEAL_ROLES))]
FeedbackViewer = Annotated[Viewer, Depends(viewer_with_roles(*FEEDBACK_ROLES))]
HAND_OVER_ROLES = ("sales", "manager")  # who a deal may be handed to
CLOSED = ("won", "lost")


async def sellers(request: Request) -> list[dict[str, str]]:
    """The people a deal may be handed to: active sales and account managers, by name."""
    async with runtime_of(request).uow() as uow:
        people = [
            {"username": u.username, "full_name": u.full_name or u.username, "role": u.role}
            for u in await uow.users()
            if u.active and u.role in HAND_OVER_ROLES
        ]
    return sorted(people, key=lambda p: (p["role"] != "sales", p["full_name"]))


async def _clients(viewer: Viewer) -> list[dict[str, Any]]:
    listed = await panel(viewer.services.get("contracts", "/api/clients", limit=500))
    return listed.data or []


# --- deals ----------------------------------------------------------------------------------


async def _deals_page(
    request: Request,
    viewer: Viewer,
    stage: str,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
    flash: str | None = None,
    status: int = 200,
    client_id: str = "",
) -> Response:
    params: dict[str, Any] = {"limit": 200}
    if stage in DEAL_STAGE:
        params["stage"] = stage
    if client_id:
        params["client_id"] = client_id
    parts = await panels(deals=viewer.services.get("contracts", "/api/deals", **params))
    clients = await _clients(viewer)
    names = {str(c["id"]): c["name"] for c in clients}
    rows = sorted(
        parts["deals"].data or [],
        key=lambda d: (
            d["stage"] in CLOSED,
            list(DEAL_STAGE).index(d["stage"]) if d["stage"] in DEAL_STAGE else 9,
        ),
    )
    board = {s: [d for d in rows if d["stage"] == s] for s in DEAL_STAGE}
    return render(
        request,
        "desks/contracts/deals.html",
        {
            "p": parts,
            "rows": rows,
            "board": board,
            "names": names,
            "clients": clients,
            "stage": stage,
            "stages": DEAL_STAGE,
            "sellers": await sellers(request),
            "errors": errors or {},
            "values": values or {"client_id": client_id},
            "client_id": client_id,
            "flash": flash,
            "idempotency_key": str(uuid.uuid4()),
        },
        status=status,
    )


DEAL_FLASH = {
    "created": "Сделка создана.",
    "moved": "Стадия сделки изменена.",
    "handed": "Сделка передана.",
}


@router.get("/deals")
async def deals(
    request: Request,
    viewer: DealViewer,
    stage: Annotated[str, Query(max_length=20)] = "",
    client_id: Annotated[str, Query(max_length=40)] = "",
    flash: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return await _deals_page(
        request, viewer, stage, flash=DEAL_FLASH.get(flash), client_id=_client_param(client_id)
    )


def _client_param(text: str) -> str:
    try:
        return str(uuid.UUID(text)) if text else ""
    except ValueError:
        return ""


def _require(viewer: Viewer, roles: tuple[str, ...], why: str) -> None:
    if not viewer.has_role(*roles):
        raise PageForbidden(why)


@router.post("/deals")
async def create_deal(request: Request, viewer: CheckedViewer) -> Response:
    _require(viewer, DEAL_ROLES, "Сделки ведут менеджеры и руководитель.")
    form = await request.form()
    values = {
        k: form_str(form, k)
        for k in ("client_id", "title", "equipment", "amount", "owner", "notes")
    }
    errors: dict[str, str] = {}
    if not values["client_id"]:
        errors["client_id"] = "Выберите клиента из списка."
    if not values["title"]:
        errors["title"] = "Обязательное поле."
    people = {p["username"] for p in await sellers(request)}
    if values["owner"] and values["owner"] not in people:
        errors["owner"] = "Выберите менеджера из списка."
    if errors:
        return await _deals_page(
            request, viewer, "", errors={"new": errors}, values=values, status=422
        )
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    if "amount" in body:
        body["amount"] = money_input(body["amount"])
    if values["owner"]:
        body["handed_to_sales"] = True
    try:
        await viewer.services.post(
            "contracts",
            "/api/deals",
            json=body,
            headers={"Idempotency-Key": _key(form_str(form, "idempotency_key"))},
        )
    except ServiceError as exc:
        return await _deals_page(
            request,
            viewer,
            "",
            errors={"new": exc.form_errors()},
            values=values,
            status=exc.status,
        )
    return redirect("/contracts/deals?flash=created", request)


def _key(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return str(uuid.uuid4())


@router.post("/deals/{deal_id}/stage")
async def move_deal(deal_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    _require(viewer, DEAL_ROLES, "Сделки ведут менеджеры и руководитель.")
    form = await request.form()
    try:
        await viewer.services.post(
            "contracts", f"/api/deals/{deal_id}/stage", json={"stage": form_str(form, "stage")}
        )
    except ServiceError as exc:
        return await _deals_page(
            request,
            viewer,
            "",
            errors={str(deal_id): exc.form_errors("stage")},
            status=exc.status,
        )
    return redirect("/contracts/deals?flash=moved", request)


@router.post("/deals/{deal_id}/hand-over")
async def hand_over(deal_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    _require(viewer, DEAL_ROLES, "Сделки ведут менеджеры и руководитель.")
    form = await request.form()
    to = form_str(form, "to")
    if to not in {p["username"] for p in await sellers(request)}:
        return await _deals_page(
            request,
            viewer,
            "",
            errors={str(deal_id): {"to": "Выберите менеджера из списка."}},
            status=422,
        )
    try:
        await viewer.services.post("contracts", f"/api/deals/{deal_id}/hand-over", json={"to": to})
    except ServiceError as exc:
        return await _deals_page(
            request,
            viewer,
            "",
            errors={str(deal_id): exc.form_errors("to")},
            status=exc.status,
        )
    return redirect("/contracts/deals?flash=handed", request)


# --- feedback -------------------------------------------------------------------------------


async def _feedback_page(
    request: Request,
    viewer: Viewer,
    kind: str,
    client_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    flash: str | None = None,
    status: int = 200,
) -> Response:
    params: dict[str, Any] = {"limit": 200}
    if kind in FEEDBACK_KIND:
        params["kind"] = kind
    if client_id:
        params["client_id"] = client_id
    listed = await panel(viewer.services.get("contracts", "/api/feedback", **params))
    clients = await _clients(viewer)
    return render(
        request,
        "desks/contracts/feedback.html",
        {
            "listed": listed,
            "kind": kind,
            "kinds": FEEDBACK_KIND,
            "clients": clients,
            "names": {str(c["id"]): c["name"] for c in clients},
            "client_id": client_id,
            "values": values or {"client_id": client_id, "recorded_on": today().isoformat()},
            "errors": errors or {},
            "flash": flash,
            "idempotency_key": str(uuid.uuid4()),
        },
        status=status,
    )


@router.get("/feedback")
async def feedback(
    request: Request,
    viewer: FeedbackViewer,
    kind: Annotated[str, Query(max_length=30)] = "",
    client_id: Annotated[str, Query(max_length=40)] = "",
    flash: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return await _feedback_page(
        request,
        viewer,
        kind,
        _client_param(client_id),
        flash="Отзыв записан." if flash else None,
    )


@router.post("/feedback")
async def record_feedback(request: Request, viewer: CheckedViewer) -> Response:
    _require(viewer, FEEDBACK_ROLES, "Отзывы клиентов записывают менеджеры, юрист и руководитель.")
    form = await request.form()
    values = {k: form_str(form, k) for k in ("client_id", "kind", "text", "recorded_on")}
    errors: dict[str, str] = {}
    try:
        client_id = str(uuid.UUID(values["client_id"]))
    except ValueError:
        errors["client_id"] = "Выберите клиента из списка."
    if not values["text"]:
        errors["text"] = "Обязательное поле."
    if errors:
        return await _feedback_page(
            request, viewer, "", "", values=values, errors=errors, status=422
        )
    body = {k: values[k] for k in ("kind", "text", "recorded_on") if values[k]}
    try:
        await viewer.services.post(
            "contracts",
            f"/api/clients/{client_id}/feedback",
            json=body,
            headers={"Idempotency-Key": _key(form_str(form, "idempotency_key"))},
        )
    except ServiceError as exc:
        return await _feedback_page(
            request,
            viewer,
            "",
            "",
            values=values,
            errors=exc.form_errors(),
            status=exc.status,
        )
    return redirect(f"/contracts/feedback?client_id={client_id}&flash=1", request)
