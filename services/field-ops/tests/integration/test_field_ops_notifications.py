"""notifications' rules fire from real field-ops events (outbox → RabbitMQ → notifications):
the head's approval task (closed by the approval), the control call, the problem on site, the
SLA escalation, the downtime call and its escalation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from clientops_shared.jobs import MOSCOW
from clientops_shared.testing import eventually_async, running_app

pytestmark = pytest.mark.integration


async def test_notifications_rules_fire_from_field_ops_events(field) -> None:
    async with running_app(field.servers, "notifications", jobs_enabled=False) as (_, notes):
        head = field.auth("head", "head")
        site = await field.site(sla_days=1)
        await field.technician("tech1")

        async def tasks(kind: str, state: str | None = None, count: int = 1) -> list[dict]:
            async def found() -> list[dict] | None:
                params = {"client_id": site["client_id"], "kind": kind}
                if state:
                    params["state"] = state
                r = await notes.get("/api/tasks", params=params, headers=head)
                rows = r.json() if r.status_code == 200 else []
                return rows if len(rows) >= count else None

            rows: list[dict] = await eventually_async(found, timeout=30)
            return rows

        field.now = datetime.now(MOSCOW).replace(microsecond=0)
        order = await field.order(site, "emergency", description="Не открывается шлагбаум")
        [approval] = await tasks("work_order_approval")
        assert approval["assignee"] == "head" and "Аварийный выезд" in approval["title"]
        r = await field.post(f"/api/work-orders/{order['id']}/approve", as_=field.head,
                             expect=200)
        [closed] = await tasks("work_order_approval", state="done")
        assert r.json()["journal_number"] in closed["outcome"]

        visit_on = field.now.date() + timedelta(days=3)
        await field.post(f"/api/work-orders/{order['id']}/schedule",
                         field.schedule_body(visit_on.isoformat()), expect=200)
        [call] = await tasks("control_call")
        assert call["assignee"] == "manager1"

        problem = (await field.post(f"/api/work-orders/{order['id']}/problems",
                                    {"description": "Нет питания"},
                                    as_=field.auth("tech1", "technician"), expect=201)).json()
        [decide] = await tasks("work_order_problem")
        assert decide["assignee"] == "head" and "Нет питания" in decide["title"]
        await field.post(f"/api/problems/{problem['id']}/decision", {"decision": "Ждать"},
                         as_=field.head, expect=200)
        await tasks("work_order_problem", state="done")

        # the SLA window closes: the head gets exactly one escalation
        due_at = datetime.fromisoformat(order["due_at"])
        await field.clock(due_at)
        await field.clock(due_at + timedelta(minutes=5))

        async def escalations(prefix: str) -> list[dict] | None:
            r = await notes.get("/api/escalations", headers=head, params={"limit": 500})
            rows = [e for e in r.json() if str(e.get("key", "")).startswith(prefix)]
            return rows or None

        sla = await eventually_async(lambda: escalations(f"escalation:sla_breach:{order['id']}"),
                                     timeout=30)
        assert len(sla) == 1
        assert f"до конца дня {order['due_by'][8:10]}." in sla[0]["reason"]

        # downtime: a call to find the cause; over 24 h → escalated
        started = field.now - timedelta(hours=1)
        incident = (await field.post("/api/downtime", {
            "site_id": site["site_id"], "started_at": started.isoformat(),
            "source": "monitoring"}, expect=201)).json()
        [cause] = await tasks("downtime_cause")
        assert cause["assignee"] == "manager1"
        await field.clock(started + timedelta(hours=24, minutes=1))
        down = await eventually_async(lambda: escalations(f"escalation:downtime:{incident['id']}"),
                                      timeout=30)
        assert len(down) == 1
