"""Work orders (004 §2), the journal, technicians, the act."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from clientops_shared.auth import CurrentUser
from clientops_shared.errors import InvalidInput
from clientops_shared.http import XLSX, file_responses
from clientops_shared.idempotency import idempotent
from clientops_shared.offload import in_worker_process
from clientops_shared.runtime import runtime_of
from clientops_shared.types import BoundedDate
from field_ops import documents, views
from field_ops.adapters import orm
from field_ops.domain.model import STATUS_LABELS, Contact, WorkOrderKind, WorkOrderStatus
from field_ops.entrypoints.api import schemas
from field_ops.entrypoints.api.deps import (
    Dispatch,
    Field,
    Head,
    Limit,
    Now,
    Offset,
    Opener,
    UoW,
)
from field_ops.service_layer import work_orders as uc
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork

router = APIRouter(prefix="/api", tags=["work orders"])


def _status(order: Any) -> dict[str, Any]:
    return {"id": order.id, "status": order.status.value,
            "status_label": STATUS_LABELS[order.status.value],
            "reschedule_count": order.reschedule_count, "journal_number": order.journal_number}


@router.post("/work-orders", status_code=201, response_model=schemas.WorkOrderCreatedOut)
async def create(request: Request, body: schemas.WorkOrderIn, actor: Opener, uow: UoW,
                 now: Now) -> Any:
    """A draft with an open date (004 §2.1); the head signs it next. Idempotency-Key."""

    async def run(work: FieldOpsUnitOfWork) -> dict[str, Any]:
        order = await uc.create(work, actor, client_id=body.client_id, site_id=body.site_id,
                                kind=body.kind, description=body.description,
                                contract_id=body.contract_id,
                                awaiting_goods=body.awaiting_goods, now=now)
        return {**_status(order), "due_by": order.due_by, "due_at": order.due_at}

    return await idempotent(request, actor, body, run,
                            lambda r: schemas.WorkOrderCreatedOut.model_validate(r)
                            .model_dump(mode="json"), uow=uow)


@router.get("/work-orders")
async def list_orders(request: Request, response: Response, actor: CurrentUser,
                      technician: str | None = Query(None, max_length=64),
                      status: Annotated[list[WorkOrderStatus] | None, Query()] = None,
                      client_id: uuid.UUID | None = None, site_id: uuid.UUID | None = None,
                      kind: WorkOrderKind | None = None, visit_from: BoundedDate | None = None,
                      visit_to: BoundedDate | None = None, awaiting_approval: bool | None = None,
                      sla: Literal["running", "breached"] | None = None,
                      limit: Limit = 100, offset: Offset = 0) -> list[dict[str, Any]]:
    """Filterable, paginated (``X-Total-Count``). A technician sees only their own orders.
    ``sla=running``: emergency clocks still ticking (by ``due_at``); ``sla=breached``."""
    async with runtime_of(request).sessions() as session:
        total, rows = await views.work_orders(
            session, actor, technician=technician, status=[s.value for s in status or []],
            client_id=client_id, site_id=site_id, kind=kind, visit_from=visit_from,
            visit_to=visit_to, awaiting_approval=awaiting_approval, limit=limit, offset=offset,
            sla=sla)
    response.headers["X-Total-Count"] = str(total)
    return rows


@router.get("/work-orders/{order_id}")
async def get_order(request: Request, order_id: uuid.UUID, actor: CurrentUser
                    ) -> dict[str, Any]:
    async with runtime_of(request).sessions() as session:
        return await views.work_order(session, actor, order_id)


@router.post("/work-orders/{order_id}/approve", response_model=schemas.ApprovedOut)
async def approve(order_id: uuid.UUID, actor: Head, uow: UoW, now: Now) -> Any:
    """004 §2.2–2.3: the head signs; the journal number is assigned in the same transaction."""
    async with uow:
        return _status(await uc.approve(uow, actor, order_id, now))


@router.post("/work-orders/{order_id}/reject", response_model=schemas.StatusOut)
async def reject(order_id: uuid.UUID, body: schemas.DecisionIn, actor: Head, uow: UoW,
                 now: Now) -> Any:
    async with uow:
        return _status(await uc.reject(uow, actor, order_id, body.reason, now))


@router.post("/work-orders/{order_id}/cancel", response_model=schemas.StatusOut)
async def cancel(order_id: uuid.UUID, body: schemas.DecisionIn, actor: Dispatch, uow: UoW,
                 now: Now) -> Any:
    async with uow:
        return _status(await uc.cancel_by_hand(uow, actor, order_id, body.reason, now))


@router.post("/work-orders/{order_id}/schedule", response_model=schemas.StatusOut)
async def schedule(order_id: uuid.UUID, body: schemas.ScheduleIn, actor: Dispatch, uow: UoW,
                   now: Now) -> Any:
    """004 §2.4 / 2.11: the visit agreed with the site contact; again after «не выполнена»."""
    async with uow:
        order = await uc.schedule(
            uow, actor, order_id, visit_on=body.visit_on, window=body.window,
            contact=Contact(name=body.site_contact.name, phone=body.site_contact.phone),
            technician_name=body.technician, now=now, contractor_id=body.contractor_id)
        return _status(order)


@router.post("/work-orders/{order_id}/report", response_model=schemas.StatusOut)
async def report(order_id: uuid.UUID, body: schemas.ReportIn, actor: Field, uow: UoW,
                 now: Now) -> Any:
    """004 §2.10: done / not done with a reason; installed / removed serials."""
    async with uow:
        order = await uc.report(uow, actor, order_id, outcome=body.outcome, reason=body.reason,
                                equipment=body.equipment_items(), now=now,
                                works=body.works)
        return _status(order)


@router.post("/work-orders/{order_id}/problems", status_code=201)
async def report_problem(order_id: uuid.UUID, body: schemas.ProblemIn, actor: Field, uow: UoW,
                         now: Now) -> dict[str, Any]:
    """004 §2.9: a problem on site; the head gets a task to decide."""
    async with uow:
        return await uc.report_problem(uow, actor, order_id, body.description, now)


@router.post("/problems/{problem_id}/decision")
async def decide_problem(problem_id: uuid.UUID, body: schemas.ProblemDecisionIn, actor: Head,
                         uow: UoW, now: Now) -> dict[str, Any]:
    async with uow:
        return await uc.decide_problem(uow, actor, problem_id, body.decision, now)


@router.get("/work-orders/{order_id}/act.pdf", responses=file_responses("application/pdf"))
async def act(request: Request, order_id: uuid.UUID, actor: CurrentUser) -> Response:
    """004 §2.6–2.7: the acceptance act the technician takes to the site."""
    async with runtime_of(request).sessions() as session:
        order = await views.work_order(session, actor, order_id)
    pdf = await in_worker_process(documents.act_pdf, order)
    name = order["journal_number"] or str(order_id)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="act-{name}.pdf"'})


@router.get("/journal", responses=file_responses(XLSX))
async def journal(request: Request, actor: Dispatch,
                  year: Annotated[int, Query(ge=2000, le=2100)],
                  format: Literal["json", "xlsx"] = "json") -> Any:
    """The numbered journal of a year, in journal order, numbers without gaps."""
    async with runtime_of(request).sessions() as session:
        rows = await views.journal(session, year)
    if format == "xlsx":
        content = await in_worker_process(documents.journal_xlsx, rows, year)
        return Response(content, media_type=documents.XLSX, headers={
            "Content-Disposition": f'attachment; filename="journal-{year}.xlsx"'})
    return rows


# --- technicians: whom an order may be given to ---------------------------------------------
@router.get("/technicians")
async def technicians(request: Request, actor: CurrentUser, active: bool | None = True
                      ) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return await views.technicians(session, active)


@router.put("/technicians/{username}")
async def put_technician(username: str, body: schemas.TechnicianIn, actor: Dispatch,
                         uow: UoW) -> dict[str, Any]:
    """Add or change a technician (the web publishes no staff events yet)."""
    if username != body.username:
        raise InvalidInput("username", "не совпадает с адресом")
    return await _save_technician(uow, body)


async def _save_technician(uow: FieldOpsUnitOfWork, body: schemas.TechnicianIn
                           ) -> dict[str, Any]:
    async with uow:
        values = body.model_dump()
        await uow.upsert(orm.technicians, ["username"], values)
        uow.audit("technician.saved", "technician", body.username, after=values)
        await uow.commit()
        return values
