"""Equipment register, downtime incidents, SLA compliance, sites, the clock job."""

from __future__ import annotations

import calendar
import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from clientops_shared.auth import CurrentUser
from clientops_shared.idempotency import idempotent
from clientops_shared.runtime import runtime_of
from field_ops import views
from field_ops.domain.model import INCIDENT_LABELS, STATUS_LABELS, IncidentState
from field_ops.entrypoints.api import schemas
from field_ops.entrypoints.api.deps import Dispatch, Head, Limit, Now, Offset, Reporter, UoW
from field_ops.entrypoints.jobs import run_clock
from field_ops.service_layer import downtime as uc
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork

router = APIRouter(prefix="/api", tags=["field"])


@router.get("/equipment")
async def equipment(request: Request, actor: CurrentUser, site_id: uuid.UUID | None = None,
                    client_id: uuid.UUID | None = None, in_place: bool | None = None,
                    limit: Limit = 200, offset: Offset = 0) -> list[dict[str, Any]]:
    """The register per site: type, serial, installed / removed dates (kept by orders)."""
    async with runtime_of(request).sessions() as session:
        return await views.equipment(session, actor, site_id=site_id, client_id=client_id,
                                     in_place=in_place, limit=limit, offset=offset)


@router.get("/sites")
async def sites(request: Request, actor: CurrentUser, client_id: uuid.UUID | None = None,
                limit: Limit = 200, offset: Offset = 0) -> list[dict[str, Any]]:
    """Field-ops' own directory of sites (from contracts' events), for pickers."""
    async with runtime_of(request).sessions() as session:
        return await views.sites(session, actor, client_id, limit, offset)


def _incident(incident: Any) -> dict[str, Any]:
    return {"id": incident.id, "state": incident.state.value,
            "state_label": INCIDENT_LABELS[incident.state.value], "cause": incident.cause,
            "resolved_at": incident.resolved_at}


@router.post("/downtime", status_code=201, response_model=schemas.DowntimeCreatedOut)
async def report_downtime(request: Request, body: schemas.DowntimeIn, actor: Reporter,
                          uow: UoW, now: Now) -> Any:
    """004 §7.1: a downtime reported by monitoring or by hand; a call task follows.
    Monitoring retries with the same Idempotency-Key get the first answer."""

    async def run(work: FieldOpsUnitOfWork) -> dict[str, Any]:
        return _incident(await uc.report(work, actor, site_id=body.site_id, serial=body.serial,
                                         started_at=body.started_at, source=body.source,
                                         description=body.description, now=now))

    return await idempotent(request, actor, body, run,
                            lambda r: schemas.DowntimeCreatedOut.model_validate(r)
                            .model_dump(mode="json"), uow=uow)


@router.get("/downtime")
async def list_downtime(request: Request, actor: CurrentUser,
                        state: Annotated[list[IncidentState] | None, Query()] = None,
                        client_id: uuid.UUID | None = None, site_id: uuid.UUID | None = None,
                        escalated: bool | None = None, limit: Limit = 100, offset: Offset = 0
                        ) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return await views.incidents(session, actor, state=[s.value for s in state or []],
                                     client_id=client_id, site_id=site_id, limit=limit,
                                     offset=offset, escalated=escalated)


@router.post("/downtime/{incident_id}/cause")
async def record_cause(incident_id: uuid.UUID, body: schemas.CauseIn, actor: Reporter,
                       uow: UoW) -> dict[str, Any]:
    """004 §7.2: the cause found by calling the site."""
    async with uow:
        return _incident(await uc.record_cause(uow, incident_id, body.cause))


@router.post("/downtime/{incident_id}/resolve")
async def resolve(incident_id: uuid.UUID, body: schemas.ResolveIn, actor: Reporter, uow: UoW,
                  now: Now) -> dict[str, Any]:
    async with uow:
        return _incident(await uc.resolve(uow, incident_id, at=body.resolved_at or now,
                                          cause=body.cause, now=now))


@router.post("/downtime/{incident_id}/work-order", status_code=201)
async def order_from_incident(incident_id: uuid.UUID, body: schemas.IncidentOrderIn,
                              actor: Dispatch, uow: UoW, now: Now) -> dict[str, Any]:
    """004 §7.4: repair, replacement, repaint or reinforcement started from the incident."""
    async with uow:
        order = await uc.start_order(uow, actor, incident_id, kind=body.kind,
                                     description=body.description, now=now)
        return {"id": order.id, "status": order.status.value,
                "status_label": STATUS_LABELS[order.status.value], "due_by": order.due_by}


@router.get("/sla/compliance")
async def sla_compliance(request: Request, actor: Dispatch,
                         month: Annotated[str, Query(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$")],
                         client_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Emergency visits due in the month per client: on time, breached, open, percent."""
    year, mon = (int(x) for x in month.split("-"))
    first = date(year, mon, 1)
    last = date(year, mon, calendar.monthrange(year, mon)[1])
    async with runtime_of(request).sessions() as session:
        return await views.sla_compliance(session, first=first, last=last, client_id=client_id)


@router.post("/jobs/clock")
async def clock(request: Request, body: schemas.ClockIn, actor: Head, now: Now
                ) -> dict[str, Any]:
    """Run the clock (SLA breaches, downtime over 24 h) for a moment; once per minute."""
    ran, result = await run_clock(runtime_of(request), body.at or now)
    return {"job": "field-ops-clock", "ran": ran, "result": result}
