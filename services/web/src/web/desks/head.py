"""Head's dashboard: workload per person and function, overdue work, the bus-factor list,
bulk reassignment of a client's or a function's tasks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from clientops_shared.runtime import runtime_of
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
from web.formatting import FUNCTION_TITLES

router = APIRouter(prefix="/head", include_in_schema=False)
HeadViewer = Annotated[Viewer, Depends(viewer_with_roles("head"))]
WORKERS = ("manager", "head", "billing", "accountant", "dispatcher", "logistics", "lawyer",
           "sales", "technician")


def overdue_tasks(tasks: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    late = [t for t in tasks if t.get("state") == "open"
            and datetime.fromisoformat(str(t["due_at"]).replace("Z", "+00:00")) < now]
    return sorted(late, key=lambda t: str(t["due_at"]))


def bars(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Rows with a ``width`` percent of the largest ``key`` value, for a CSS bar chart."""
    top = max((Decimal(str(r.get(key) or 0)) for r in rows), default=Decimal(0))
    return [{**r, "width": int(100 * Decimal(str(r.get(key) or 0)) / top) if top else 0}
            for r in rows]


AGING_TITLES = {"not_due": "срок не наступил", "d1_30": "1–30 дней", "d31_60": "31–60 дней",
                "d61_90": "61–90 дней", "over_90": "больше 90 дней"}


def aging_bars(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Unpaid money by how late it is, one bar per bucket."""
    rows = [{"bucket": b, "title": AGING_TITLES.get(b, b), "amount": report["totals"].get(b, 0)}
            for b in report.get("buckets", [])]
    return bars(rows, "amount")


HISTORY_WEEKS = (4, 8, 12, 26)


def week_chart(history: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Tasks done per week per person as bars: each bar's ``height`` is a percent of the
    busiest week of anyone, so bars compare across people; busiest people first."""
    people = history.get("people", [])
    top = max((n for row in people for n in row["done"]), default=0)
    rows = [{"person": row["person"], "name": names.get(row["person"]) or row["person"],
             "total": row["total"],
             "cells": [{"count": n, "height": round(100 * n / top) if top else 0}
                       for n in row["done"]]}
            for row in people]
    rows.sort(key=lambda r: (-r["total"], r["person"]))
    weeks = [{"start": w["start"], "end": w["end"],
              "label": f"{w['start'][8:10]}.{w['start'][5:7]}"} for w in history["weeks"]]
    return {"weeks": weeks, "rows": rows, "totals": history.get("totals", []), "top": top}


async def people_at_work(request: Request) -> list[dict[str, str]]:
    async with runtime_of(request).uow() as uow:
        return [{"username": u.username, "full_name": u.full_name, "role": u.role}
                for u in await uow.users() if u.active and u.role in WORKERS]


async def _dashboard(request: Request, viewer: Viewer, *, values: dict[str, str] | None = None,
                     errors: dict[str, str] | None = None, status: int = 200,
                     notice: str | None = None, weeks: int = 8) -> Response:
    now = datetime.now(UTC)
    parts = await panels(
        workload=viewer.services.get("notifications", "/api/workload"),
        history=viewer.services.get("notifications", "/api/workload/history", weeks=weeks),
        tasks=viewer.services.get("notifications", "/api/tasks", state="open", limit=500),
        assignments=viewer.services.get("notifications", "/api/assignments", limit=10),
        aging=viewer.services.get("billing", "/api/reports/aging"),
        clients=viewer.services.get("contracts", "/api/clients", limit=500),
        escalations=viewer.services.get("notifications", "/api/escalations", limit=20),
        requests=viewer.services.get("notifications", "/api/requests/open-summary"),
    )
    workload = parts["workload"].data if parts["workload"].ok else None
    people = await people_at_work(request)
    names = {u["username"]: u["full_name"] for u in people}
    return render(request, "desks/head/dashboard.html", {
        "p": parts, "workload": workload,
        "done_bars": bars(workload.get("people", []), "done_this_week") if workload else [],
        "open_bars": bars(workload.get("people", []), "open") if workload else [],
        "overdue": overdue_tasks(parts["tasks"].data, now) if parts["tasks"].ok else [],
        "aging_bars": aging_bars(parts["aging"].data) if parts["aging"].ok else [],
        "chart": week_chart(parts["history"].data, names) if parts["history"].ok else None,
        "weeks": weeks, "week_choices": HISTORY_WEEKS,
        "people": people, "functions": FUNCTION_TITLES,
        "values": values or {}, "errors": errors or {}, "notice": notice}, status=status)


@router.get("")
async def dashboard(request: Request, viewer: HeadViewer, moved: int | None = None,
                    owner: str | None = None,
                    weeks: Annotated[int, Query(ge=1, le=52)] = 8) -> Response:
    notice = f"Передано задач: {moved}." if moved is not None else None
    if owner:
        notice = f"Клиент передан менеджеру {owner}; его открытые задачи переходят вместе с ним."
    return await _dashboard(request, viewer, notice=notice, weeks=weeks)


@router.post("/reassign")
async def reassign(request: Request, viewer: CheckedViewer) -> Response:
    if not viewer.has_role("head"):
        raise PageForbidden("Задачи между людьми переносит руководитель.")
    form = await request.form()
    values = {k: form_str(form, k) for k in ("client_id", "function", "from_assignee",
                                             "to_assignee", "note")}
    values["standing"] = "on" if form.get("standing") == "on" else ""
    values["owner"] = "on" if form.get("owner") == "on" else ""
    if not values["to_assignee"]:
        return await _dashboard(request, viewer, values=values, status=422,
                                errors={"to_assignee": "Выберите, кому передать."})
    if values["owner"]:
        # the client itself changes hands: contracts records it, its tasks follow the event
        if not values["client_id"]:
            return await _dashboard(request, viewer, values=values, status=422,
                                    errors={"client_id": "Выберите клиента."})
        try:
            await viewer.services.post("contracts", "/api/clients/assign", json={
                "client_ids": [values["client_id"]], "manager": values["to_assignee"]})
        except ServiceError as exc:
            return await _dashboard(request, viewer, values=values, status=exc.status,
                                    errors=exc.form_errors(refusals=(400, 403, 404, 409, 422)))
        return redirect(f"/head?owner={values['to_assignee']}", request)
    body: dict[str, Any] = {k: v for k, v in values.items()
                            if v and k not in ("standing", "owner")}
    body["standing"] = bool(values["standing"])
    try:
        record = await viewer.services.post("notifications", "/api/assignments", json=body)
    except ServiceError as exc:
        return await _dashboard(request, viewer, values=values, status=exc.status,
                                errors=exc.form_errors(refusals=(400, 403, 409, 422)))
    return redirect(f"/head?moved={int(record.get('moved', 0))}", request)


