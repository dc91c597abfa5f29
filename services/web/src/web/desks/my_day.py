"""My day, for every role: overdue and today's tasks, the payment-reminder call list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.entrypoints.pages.framework import CurrentViewer, Panel, Viewer, panel, render
from web.formatting import MOSCOW

router = APIRouter(include_in_schema=False)

PAYMENT_REMINDER = "payment_reminder"
PRIORITY_RANK = {"urgent": 3, "high": 2, "normal": 1, "low": 0}


def _due(task: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(task["due_at"]).replace("Z", "+00:00"))


def split_day(tasks: list[dict[str, Any]], now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Overdue (oldest first), today (most urgent first), later; reminders apart as calls."""
    local = now.astimezone(MOSCOW)
    end_of_day = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(),
                                  tzinfo=MOSCOW)
    groups: dict[str, list[dict[str, Any]]] = {"overdue": [], "today": [], "later": [],
                                               "calls": []}
    for task in tasks:
        if task.get("state") not in ("open", None):
            continue
        due = _due(task)
        if task.get("kind") == PAYMENT_REMINDER and due < end_of_day:
            groups["calls"].append(task)
        elif due < now:
            groups["overdue"].append(task)
        elif due < end_of_day:
            groups["today"].append(task)
        else:
            groups["later"].append(task)
    groups["overdue"].sort(key=_due)
    groups["today"].sort(key=lambda t: (-PRIORITY_RANK.get(str(t.get("priority")), 1), _due(t)))
    groups["later"].sort(key=_due)
    groups["calls"].sort(key=_due)
    return groups


async def _my_tasks(viewer: Viewer) -> Panel:
    return await panel(viewer.services.get("notifications", "/api/tasks",
                                           assignee=viewer.username, state="open", limit=500))


@router.get("/")
async def my_day(request: Request, viewer: CurrentViewer) -> Response:
    now = datetime.now(UTC)
    tasks = await _my_tasks(viewer)
    groups = split_day(tasks.data or [], now) if tasks.ok else {}
    return render(request, "desks/my_day/page.html", {
        "tasks": tasks, "groups": groups, "now": now})
