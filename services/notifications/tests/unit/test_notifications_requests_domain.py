"""The requests journal's rules without I/O: numbering, routing by kind, who answers, once."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from notifications.domain.model import Function
from notifications.domain.requests import (
    Channel,
    ClientRequest,
    RequestError,
    RequestKind,
    RequestState,
    functions_of,
    journal_number,
)
from notifications.domain.rules import PlanContext, default_rules

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 21, 10, 0, tzinfo=MSK)


def a_request(kind: RequestKind, at: datetime = NOW) -> ClientRequest:
    return ClientRequest.register(
        id=uuid.uuid4(),
        seq=17,
        client_id=uuid.uuid4(),
        kind=kind,
        channel=Channel.CALL,
        subject=" платёж не прошёл ",
        by="manager1",
        at=at,
    )


def test_numbers_are_per_moscow_year() -> None:
    assert journal_number(2026, 17) == "ОБ-2026-00017"
    # 31 December 21:30 UTC is already 1 January in Moscow
    new_year = a_request(
        RequestKind.PAYMENT, datetime(2026, 12, 31, 21, 30, tzinfo=ZoneInfo("UTC"))
    )
    assert new_year.number == "ОБ-2027-00017"
    with pytest.raises(RequestError):
        journal_number(2026, 0)


@pytest.mark.parametrize(
    ("kind", "function"),
    [
        (RequestKind.QUESTION, Function.SUPPORT),
        (RequestKind.PAYMENT, Function.BILLING),
        (RequestKind.TERMINAL, Function.FIELD_OPS),
        (RequestKind.CONTRACT, Function.CONTRACTS),
    ],
)
def test_a_request_is_routed_by_its_kind(kind: RequestKind, function: Function) -> None:
    request = a_request(kind)
    assert request.function is function and request.subject == "платёж не прошёл"


def test_who_answers() -> None:
    payment, question = a_request(RequestKind.PAYMENT), a_request(RequestKind.QUESTION)
    assert payment.may_answer("b", "billing", "manager1")
    assert payment.may_answer("a", "accountant", "manager1")
    assert not payment.may_answer("d", "dispatcher", "manager1")
    assert not payment.may_answer("manager1", "manager", "manager1")
    assert question.may_answer("manager1", "manager", "manager1")
    assert not question.may_answer("manager2", "manager", "manager1")
    assert question.may_answer("head", "head", "manager1")
    assert functions_of("billing") == {Function.BILLING}
    assert functions_of("head") >= {Function.SUPPORT, Function.FIELD_OPS}


def test_answered_once_and_never_empty() -> None:
    request = a_request(RequestKind.TERMINAL)
    with pytest.raises(RequestError, match="напишите ответ"):
        request.give_answer("  ", "dispatcher", NOW)
    request.give_answer("Выезд назначен на 23.12", "dispatcher", NOW)
    assert request.state is RequestState.ANSWERED and request.answered_by == "dispatcher"
    with pytest.raises(RequestError, match="уже дан ответ"):
        request.give_answer("ещё", "dispatcher", NOW)


@pytest.mark.parametrize(
    ("kind", "function", "assignee"),
    [
        ("question", "support", "manager1"),
        ("contract", "contracts", "manager1"),
        ("payment", "billing", "queue:billing"),
        ("terminal", "field_ops", "queue:field_ops"),
    ],
)
def test_the_shipped_rules_route_the_task(kind: str, function: str, assignee: str) -> None:
    payload = {
        "request_id": "r-1",
        "number": "ОБ-2026-00001",
        "client_id": "c-1",
        "kind": kind,
        "kind_label": "вид",
        "function": function,
        "function_label": "функция",
        "channel": "call",
        "channel_label": "звонок",
        "subject": "суть",
        "registered_by": "manager1",
        "registered_at": NOW.isoformat(),
        "manager": "manager1",
    }
    plan = default_rules().plan(
        "notifications.request.registered",
        payload,
        PlanContext(now=NOW, head="head", client_manager="manager1", client_name="ООО Ромашка"),
    )
    (task,) = plan.tasks
    assert task.assignee == assignee and task.function.value == function
    assert task.title == "Ответить на обращение № ОБ-2026-00001 (вид): суть — ООО Ромашка"
