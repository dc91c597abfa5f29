"""Logistics' rules: late originals, low stock and the courier balance make the right work."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifications.domain.model import TaskState
from notifications.domain.rules import PlanContext, WorkingCalendar, apply_plan, plan

pytestmark = pytest.mark.unit

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 11, 10, 0, tzinfo=MSK)


def ctx(**overrides: Any) -> PlanContext:
    base = PlanContext(now=NOW, head="head", calendar=WorkingCalendar(), client_manager="ivanov",
                       client_name="ООО Ромашка", client_email="buh@romashka.ru")
    return replace(base, **overrides)


def test_reminder_then_overdue_is_one_call_task_and_one_escalation() -> None:
    reminder = {"delivery_id": "dd-1", "journal_number": "ДД-2026/0007", "client_id": "c-1",
                "due_on": "2026-12-10", "documents": ["Договор № 12"]}
    first = apply_plan(plan("logistics.originals.reminder_due", reminder, ctx()), [], NOW)
    (task,) = first.created
    assert (task.kind, task.assignee, task.function) == ("originals_reminder", "ivanov",
                                                          "logistics")
    assert "ДД-2026/0007" in task.title and "10.12.2026" in task.title
    overdue = plan("logistics.originals.overdue", {**reminder}, ctx())
    later = apply_plan(overdue, [task], NOW)
    assert later.created == []  # the same call task, not a second one
    (escalation,) = overdue.escalations
    assert escalation.key == "escalation:originals_late:dd-1"

    returned = plan("logistics.originals.returned", {
        "delivery_id": "dd-1", "journal_number": "ДД-2026/0007", "client_id": "c-1",
        "returned_on": "2026-12-15"}, ctx())
    closed = apply_plan(returned, [task], NOW)
    assert closed.closed == [task] and task.state is TaskState.DONE


def test_low_stock_goes_to_the_logistics_queue_and_a_receipt_closes_it() -> None:
    low = {"item": "BAR-1", "name": "Шлагбаум CAME", "available": 1, "min_stock": 3}
    (task,) = apply_plan(plan("logistics.stock.low", low, ctx(client_manager=None)), [],
                         NOW).created
    assert task.assignee == "queue:logistics" and task.client_id is None
    assert task.title == "Заказать у поставщика: «Шлагбаум CAME» (BAR-1) — доступно 1, минимум 3"
    back = plan("logistics.stock.replenished", {**low, "available": 6}, ctx())
    assert apply_plan(back, [task], NOW).closed == [task]


def test_low_courier_balance_is_a_task_to_top_it_up() -> None:
    payload = {"carrier": "dostavista", "balance": "1200.50", "threshold": "3000.00"}
    (task,) = apply_plan(plan("logistics.courier_balance.low", payload, ctx()), [], NOW).created
    assert task.assignee == "queue:logistics" and task.priority == "high"
    assert "1 200,50 ₽" in task.title and "3 000,00 ₽" in task.title


def test_unsigned_closing_documents_remind_then_escalate_and_signing_closes() -> None:
    payload = {"document_id": "cd-1", "client_id": "c-1", "kind": "upd", "number": "УПД-77",
               "sent_on": "2026-12-01", "shipment_id": "sh-1", "work_order_id": None}
    (task,) = apply_plan(plan("logistics.closing_docs.unsigned", payload, ctx()), [],
                         NOW).created
    assert task.assignee == "ivanov" and "УПД-77" in task.title and "01.12.2026" in task.title
    (escalation,) = plan("logistics.closing_docs.overdue", payload, ctx()).escalations
    assert escalation.key == "escalation:closing_docs_late:cd-1"
    delivered = apply_plan(plan("logistics.shipment.delivered",
                                {"shipment_id": "sh-1", "client_id": "c-1"}, ctx()), [],
                           NOW).created
    signed = plan("logistics.closing_docs.signed", {"document_id": "cd-1", "client_id": "c-1",
                                                    "signed_on": "2026-12-12",
                                                    "shipment_id": "sh-1"}, ctx())
    assert sorted(t.kind for t in apply_plan(signed, [task, *delivered], NOW).closed) == [
        "closing_docs", "closing_docs_reminder"]
