"""Clients' requests end to end through the real service, PostgreSQL and RabbitMQ: a request
registered on the API is numbered, its event goes out through the outbox and comes back
through the broker as a task for the routed function; the answer closes that task, queues
the Russian mail to the client and puts both steps on the client's timeline. Bad input is a
Russian 422 naming the field, with nothing written. Hand-made tasks: for oneself, or by the
head for someone else."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clientops_shared.events import contracts as c
from clientops_shared.testing import eventually_async
from notifications.domain.mail_templates import render_mail

pytestmark = pytest.mark.integration

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 21, 10, 0, tzinfo=MSK)
Notifications = Any


async def a_client(
    svc: Notifications, manager: str = "manager1", email: str | None = "client@example.ru"
) -> uuid.UUID:
    client_id = uuid.uuid4()
    await svc.publish(
        c.ClientRegistered(
            client_id=client_id,
            name=f"ООО «Обращение {client_id.hex[:4]}»",
            inn="7707083893",
            email=email,
            manager=manager,
        )
    )
    return client_id


async def routed_task(svc: Notifications, request_id: str) -> dict[str, Any]:
    async def found() -> Any:
        rows = await svc.rows(
            "SELECT * FROM task WHERE kind = 'client_request' AND dedupe_key = :k",
            k=f"client_request:{request_id}",
        )
        return rows[0] if rows else None

    row: dict[str, Any] = await eventually_async(found, timeout=20, interval=0.1)
    return row


@pytest.mark.parametrize(
    ("kind", "assignee", "function", "answerer"),
    [
        ("payment", "queue:billing", "billing", ("billing", "billing")),
        ("terminal", "queue:field_ops", "field_ops", ("dispatcher", "dispatcher")),
        ("question", "manager1", "support", ("manager1", "manager")),
        ("contract", "manager1", "contracts", ("manager1", "manager")),
    ],
)
async def test_a_request_is_routed_answered_and_the_client_informed(
    service: Any, kind: str, assignee: str, function: str, answerer: tuple[str, str]
) -> None:
    async with service(NOW) as svc:
        client_id = await a_client(svc)
        manager = svc.auth("manager1", "manager")
        r = await svc.http.post(
            "/api/requests",
            headers=manager,
            json={
                "client_id": str(client_id),
                "kind": kind,
                "channel": "call",
                "subject": "Клиент говорит, что оплата не прошла",
            },
        )
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["number"].startswith("ОБ-2026-")
        assert created["state"] == "open" and created["function"] == function
        assert created["state_label"] == "ждёт ответа"

        task = await routed_task(svc, created["id"])
        assert task["assignee"] == assignee and task["function"] == function
        assert task["state"] == "open"
        assert created["number"] in task["title"] and "ООО «Обращение" in task["title"]

        # someone of another function may not answer it
        other = svc.auth("logistics", "logistics")
        r = await svc.http.post(
            f"/api/requests/{created['id']}/answer", headers=other, json={"answer": "не моё"}
        )
        assert r.status_code == 403, r.text

        r = await svc.http.post(
            f"/api/requests/{created['id']}/answer",
            headers=svc.auth(*answerer),
            json={"answer": "Платёж пришёл 20.12, зачтён в счёт № 15."},
        )
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "answered" and r.json()["answered_by"] == answerer[0]

        async def closed() -> Any:
            rows = await svc.rows("SELECT state, outcome FROM task WHERE id = :i", i=task["id"])
            return rows[0] if rows[0]["state"] == "done" else None

        assert (await eventually_async(closed, timeout=20, interval=0.1))["outcome"]

        async def mailed() -> Any:
            rows = await svc.rows(
                "SELECT * FROM mail_delivery WHERE template = "
                "'request_answered' AND client_id = :c",
                c=str(client_id),
            )
            return rows or None

        mail = (await eventually_async(mailed, timeout=20, interval=0.1))[0]
        assert mail["to"] == "client@example.ru"
        subject, text, _ = render_mail("request_answered", **mail["context"])
        assert subject == f"Ответ на ваше обращение № {created['number']}"
        assert "Платёж пришёл 20.12" in text and "21.12.2026" in text

        async def on_timeline() -> Any:
            r = await svc.http.get(f"/api/clients/{client_id}/timeline", headers=manager)
            lines = [e["summary"] for e in r.json() if e["type"].startswith("notifications.")]
            return lines if len(lines) == 2 else None

        lines = await eventually_async(on_timeline, timeout=20, interval=0.1)
        assert lines[0].startswith(f"Обращение № {created['number']} (звонок, ")
        assert lines[1] == (
            f"Дан ответ на обращение № {created['number']}: "
            "Платёж пришёл 20.12, зачтён в счёт № 15."
        )

        # answered once: a second answer is refused, nothing changes
        r = await svc.http.post(
            f"/api/requests/{created['id']}/answer",
            headers=svc.auth(*answerer),
            json={"answer": "ещё раз"},
        )
        assert r.status_code == 409, r.text


async def test_journal_numbers_filters_and_the_heads_open_count(service: Any) -> None:
    async with service(NOW) as svc:
        mine, theirs = await a_client(svc, "manager1"), await a_client(svc, "manager2")
        numbers = []
        for client_id, who, kind in (
            (mine, "manager1", "payment"),
            (theirs, "manager2", "terminal"),
            (mine, "manager1", "payment"),
        ):
            r = await svc.http.post(
                "/api/requests",
                headers=svc.auth(who, "manager"),
                json={
                    "client_id": str(client_id),
                    "kind": kind,
                    "channel": "letter",
                    "subject": f"письмо {len(numbers)}",
                },
            )
            assert r.status_code == 201, r.text
            numbers.append(r.json()["number"])
        seqs = [int(n.rsplit("-", 1)[1]) for n in numbers]
        assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]

        # a manager sees only their clients' requests, and not another manager's one
        r = await svc.http.get("/api/requests", headers=svc.auth("manager1", "manager"))
        assert {x["number"] for x in r.json()} >= {numbers[0], numbers[2]}
        assert numbers[1] not in {x["number"] for x in r.json()}
        other = (
            await svc.http.get("/api/requests", headers=svc.head, params={"q": numbers[1]})
        ).json()[0]
        r = await svc.http.get(
            f"/api/requests/{other['id']}", headers=svc.auth("manager1", "manager")
        )
        assert r.status_code == 403
        r = await svc.http.post(
            "/api/requests",
            headers=svc.auth("manager1", "manager"),
            json={"client_id": str(theirs), "kind": "question", "channel": "call", "subject": "x"},
        )
        assert r.status_code == 403

        r = await svc.http.get(
            "/api/requests",
            headers=svc.head,
            params={"function": "billing", "client_id": str(mine)},
        )
        assert [x["number"] for x in r.json()] == [numbers[2], numbers[0]]
        assert r.headers["X-Total-Count"] == "2"

        summary = (await svc.http.get("/api/requests/open-summary", headers=svc.head)).json()
        billing = next(f for f in summary["by_function"] if f["function"] == "billing")
        assert billing["function_label"] == "расчёты с клиентами" and billing["open"] >= 2
        assert (
            await svc.http.get(
                "/api/requests/open-summary", headers=svc.auth("manager1", "manager")
            )
        ).status_code == 403
        # the routed tasks count in the head's workload per function
        for n in numbers:
            await routed_task(
                svc,
                next(
                    x["id"]
                    for x in (
                        await svc.http.get("/api/requests", headers=svc.head, params={"q": n})
                    ).json()
                ),
            )
        load = (await svc.http.get("/api/workload", headers=svc.head)).json()
        assert "billing" in str(load)


BAD_REQUESTS = [
    ({"kind": "payment", "channel": "call", "subject": "x"}, "client_id", "Выберите клиента"),
    (
        {"client_id": "не-ид", "kind": "payment", "channel": "call", "subject": "x"},
        "client_id",
        "из списка",
    ),
    (
        {"client_id": "UNKNOWN", "kind": "payment", "channel": "call", "subject": "x"},
        "client_id",
        "Такого клиента нет",
    ),
    ({"client_id": "CLIENT", "channel": "call", "subject": "x"}, "kind", "тип обращения"),
    (
        {"client_id": "CLIENT", "kind": "refund", "channel": "call", "subject": "x"},
        "kind",
        "Нет такого значения",
    ),
    (
        {"client_id": "CLIENT", "kind": "payment", "channel": "pigeon", "subject": "x"},
        "channel",
        "Нет такого значения",
    ),
    (
        {"client_id": "CLIENT", "kind": "payment", "channel": "call", "subject": "   "},
        "subject",
        "Заполните поле",
    ),
    (
        {"client_id": "CLIENT", "kind": "payment", "channel": "call", "subject": "я" * 2001},
        "subject",
        "Не длиннее 2000",
    ),
    (
        {"client_id": "CLIENT", "kind": "payment", "channel": "call", "subject": "a\u0000b"},
        "subject",
        "",
    ),
]


@pytest.mark.parametrize(("body", "field", "says"), BAD_REQUESTS)
async def test_bad_request_input_is_a_russian_422_and_nothing_is_written(
    service: Any, body: dict[str, Any], field: str, says: str
) -> None:
    async with service(NOW) as svc:
        client_id = await a_client(svc)
        before = await svc.scalar("SELECT count(*) FROM client_request")
        filled = {
            k: (str(client_id) if v == "CLIENT" else str(uuid.uuid4()) if v == "UNKNOWN" else v)
            for k, v in body.items()
        }
        r = await svc.http.post(
            "/api/requests", headers=svc.auth("manager1", "manager"), json=filled
        )
        assert r.status_code == 422, r.text
        errors = r.json()["errors"]
        assert any(e["field"].endswith(field) and says in e["message"] for e in errors), errors
        assert await svc.scalar("SELECT count(*) FROM client_request") == before
        assert (
            await svc.scalar(
                "SELECT count(*) FROM outbox_message WHERE routing_key LIKE "
                "'notifications.request.%' AND event_id IS NOT NULL "
                "AND body->'payload'->>'client_id' = :c",
                c=str(client_id),
            )
            == 0
        )


BAD_ANSWERS = [
    ({}, "Заполните поле"),
    ({"answer": " "}, "Заполните поле"),
    ({"answer": "я" * 4001}, "Не длиннее 4000"),
]


@pytest.mark.parametrize(("body", "says"), BAD_ANSWERS)
async def test_bad_answer_is_a_russian_422(service: Any, body: dict[str, Any], says: str) -> None:
    async with service(NOW) as svc:
        client_id = await a_client(svc)
        created = (
            await svc.http.post(
                "/api/requests",
                headers=svc.head,
                json={
                    "client_id": str(client_id),
                    "kind": "payment",
                    "channel": "call",
                    "subject": "где счёт",
                },
            )
        ).json()
        r = await svc.http.post(
            f"/api/requests/{created['id']}/answer", headers=svc.head, json=body
        )
        assert r.status_code == 422, r.text
        assert any(e["field"] == "answer" and says in e["message"] for e in r.json()["errors"])
        assert (
            await svc.scalar(
                "SELECT state FROM client_request WHERE id = :i", i=uuid.UUID(created["id"])
            )
            == "open"
        )


TODAY = NOW.date()
BAD_TASKS = [
    ({"due_on": TODAY.isoformat()}, "title", "Заполните поле"),
    ({"title": "я" * 501, "due_on": TODAY.isoformat()}, "title", "Не длиннее 500"),
    ({"title": "позвонить"}, "due_on", "Укажите срок"),
    ({"title": "позвонить", "due_on": "31.12.2026"}, "due_on", "дата"),
    (
        {"title": "позвонить", "due_on": (TODAY - timedelta(days=1)).isoformat()},
        "due_on",
        "в прошлом",
    ),
    (
        {"title": "позвонить", "due_on": (TODAY + timedelta(days=400)).isoformat()},
        "due_on",
        "через год",
    ),
    (
        {"title": "позвонить", "due_on": TODAY.isoformat(), "assignee": "billing"},
        "assignee",
        "только руководитель",
    ),
    (
        {"title": "позвонить", "due_on": TODAY.isoformat(), "priority": "asap"},
        "priority",
        "Нет такого значения",
    ),
    (
        {"title": "позвонить", "due_on": TODAY.isoformat(), "function": "sales"},
        "function",
        "Нет такого значения",
    ),
    (
        {"title": "позвонить", "due_on": TODAY.isoformat(), "client_id": str(uuid.UUID(int=7))},
        "client_id",
        "Такого клиента нет",
    ),
]


@pytest.mark.parametrize(("body", "field", "says"), BAD_TASKS)
async def test_bad_task_input_is_a_russian_422(
    service: Any, body: dict[str, Any], field: str, says: str
) -> None:
    async with service(NOW) as svc:
        before = await svc.scalar("SELECT count(*) FROM task WHERE kind = 'manual'")
        r = await svc.http.post("/api/tasks", headers=svc.auth("manager1", "manager"), json=body)
        assert r.status_code == 422, r.text
        assert any(e["field"] == field and says in e["message"] for e in r.json()["errors"]), (
            r.json()
        )
        assert await svc.scalar("SELECT count(*) FROM task WHERE kind = 'manual'") == before


async def test_a_task_by_hand_for_oneself_and_by_the_head_for_someone(service: Any) -> None:
    async with service(NOW) as svc:
        client_id = await a_client(svc)
        due = date(2026, 12, 23)
        r = await svc.http.post(
            "/api/tasks",
            headers=svc.auth("manager1", "manager"),
            json={
                "title": "Перезвонить главбуху",
                "due_on": due.isoformat(),
                "client_id": str(client_id),
                "priority": "high",
            },
        )
        assert r.status_code == 201, r.text
        mine = r.json()
        assert mine["assignee"] == "manager1" and mine["kind"] == "manual"
        assert mine["client_id"] == str(client_id) and mine["priority"] == "high"
        assert datetime.fromisoformat(mine["due_at"]).astimezone(MSK) == datetime(
            2026, 12, 23, 18, 0, tzinfo=MSK
        )

        r = await svc.http.post(
            "/api/tasks",
            headers=svc.head,
            json={
                "title": "Сверить реестр аренды",
                "due_on": due.isoformat(),
                "assignee": "billing",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["assignee"] == "billing" and r.json()["function"] == "contracts"
        r = await svc.http.post(
            "/api/tasks",
            headers=svc.head,
            json={
                "title": "Разнести платёж",
                "due_on": due.isoformat(),
                "assignee": "billing",
                "function": "billing",
            },
        )
        assert r.status_code == 201 and r.json()["function"] == "billing", r.text
        day = (
            await svc.http.get(
                "/api/my/tasks",
                headers=svc.auth("billing", "billing"),
                params={"at": datetime(2026, 12, 23, 9, 0, tzinfo=MSK).isoformat()},
            )
        ).json()
        titles = [t["title"] for g in day["today"] for t in g["tasks"]]
        assert "Сверить реестр аренды" in titles


async def test_a_form_sent_twice_registers_one_request(service: Any) -> None:
    async with service(NOW) as svc:
        client_id = await a_client(svc)
        body = {
            "client_id": str(client_id),
            "kind": "question",
            "channel": "call",
            "subject": "Как добавить гостевой пропуск?",
        }
        headers = {**svc.auth("manager1", "manager"), "Idempotency-Key": str(uuid.uuid4())}
        first = await svc.http.post("/api/requests", headers=headers, json=body)
        again = await svc.http.post("/api/requests", headers=headers, json=body)
        assert first.status_code == again.status_code == 201, again.text
        assert first.json()["number"] == again.json()["number"]
        assert (
            await svc.scalar(
                "SELECT count(*) FROM client_request WHERE client_id = :c", c=client_id
            )
            == 1
        )


async def test_an_empty_form_is_refused_field_by_field_at_once(service: Any) -> None:
    async with service(NOW) as svc:
        r = await svc.http.post("/api/requests", headers=svc.auth("manager1", "manager"), json={})
        assert r.status_code == 422, r.text
        said = {e["field"]: e["message"] for e in r.json()["errors"]}
        assert said == {
            "client_id": "Выберите клиента из поиска.",
            "kind": "Выберите тип обращения из списка.",
            "channel": "Выберите способ обращения из списка.",
            "subject": "Заполните поле: суть обращения.",
        }
        r = await svc.http.post("/api/tasks", headers=svc.auth("manager1", "manager"), json={})
        assert {e["field"] for e in r.json()["errors"]} == {"title", "due_on"}
