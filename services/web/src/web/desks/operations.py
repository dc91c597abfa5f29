"""Operations for ``admin``: every service's dead-letter queue, with replay and drop.

Each consuming service's ``/api/admin/dead-letters`` is read with the admin's token; a replay
puts a message back on the queue it died in (only there), a drop removes it — both need a
reason, which the service keeps in its audit log with the admin's name.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from web.adapters.services import SERVICE_TITLES, ServiceError
from web.entrypoints.pages.framework import (
    CheckedViewer,
    PageForbidden,
    PageNotFound,
    Panel,
    Viewer,
    form_str,
    redirect,
    render,
    viewer_with_roles,
)

router = APIRouter(prefix="/admin", include_in_schema=False)
AdminViewer = Annotated[Viewer, Depends(viewer_with_roles("admin"))]
CONSUMERS = ("contracts", "billing", "field_ops", "logistics", "notifications")
ACTIONS = {"replay": "возвращено в очередь", "drop": "удалено"}
REASONS = {"rejected": "отклонено обработчиком", "delivery_limit": "исчерпан лимит доставок",
           "expired": "истёк срок", "maxlen": "очередь переполнена"}


def _problem(exc: ServiceError) -> str:
    if exc.status == 503 and "broker" in exc.detail:
        return f"Брокер сообщений недоступен: {exc.detail}"
    return exc.message


async def _letters(viewer: Viewer, service: str, event_type: str) -> Panel:
    try:
        data = await viewer.services.get(service, "/api/admin/dead-letters", limit=200,
                                         type=event_type or None)
    except ServiceError as exc:
        return Panel(error=_problem(exc), status=exc.status)
    return Panel(data=data)


@router.get("/dead-letters")
async def dead_letters(request: Request, viewer: AdminViewer, service: str = "",
                       type: str = "", done: str = "", count: int = 0, error: str = ""
                       ) -> Response:
    if service and service not in CONSUMERS:
        raise PageNotFound("Такого сервиса нет.")
    shown = (service,) if service else CONSUMERS
    event_type = type.strip()[:200]
    panels = await asyncio.gather(*(_letters(viewer, s, event_type) for s in shown))
    notice = f"{SERVICE_TITLES.get(service, service)}: {ACTIONS[done]} — {count}." \
        if done in ACTIONS else None
    return render(request, "desks/operations/dead_letters.html", {
        "sections": [{"service": s, "title": SERVICE_TITLES.get(s, s), "panel": p}
                     for s, p in zip(shown, panels, strict=True)],
        "services": [(s, SERVICE_TITLES.get(s, s)) for s in CONSUMERS],
        "service": service, "type": event_type, "notice": notice, "error": error[:300],
        "reasons": REASONS})


@router.post("/dead-letters/{service}/{action}")
async def act(service: str, action: str, request: Request, viewer: CheckedViewer) -> Response:
    if viewer.role != "admin":
        raise PageForbidden("Недоставленными событиями управляет администратор.")
    if service not in CONSUMERS or action not in ACTIONS:
        raise PageNotFound("Такого действия нет.")
    form = await request.form()
    message_id, event_type = form_str(form, "message_id")[:200], form_str(form, "type")[:200]
    reason = form_str(form, "reason")[:500]
    back = {"service": service, "type": form_str(form, "back_type")[:200]}
    if len(reason) < 3:
        return redirect("/admin/dead-letters?" + urlencode(
            {**back, "error": "Укажите причину (не короче 3 знаков): она попадёт в журнал."}),
            request)
    if not (message_id or event_type):
        return redirect("/admin/dead-letters?" + urlencode(
            {**back, "error": "Выберите сообщение или тип события."}), request)
    body: dict[str, Any] = {"reason": reason, "limit": 1 if message_id else 100}
    if message_id:
        body["message_ids"] = [message_id]
    if event_type:
        body["type"] = event_type
    try:
        result = await viewer.services.post(service, f"/api/admin/dead-letters/{action}",
                                            json=body)
    except ServiceError as exc:
        return redirect("/admin/dead-letters?" + urlencode({**back, "error": _problem(exc)}),
                        request)
    return redirect("/admin/dead-letters?" + urlencode(
        {**back, "done": action, "count": int(result.get("count", 0))}), request)
