"""Issue 13 §3: a manager registers a client's request from the client card (a refused form
says what is missing next to the field), the routed function (billing, for a payment) finds
it on its My day and answers it; the client card shows the answer and the timeline both
steps. The head sets a task for someone picked by name; they see it on their My day."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System, eventually

from .conftest import ARTIFACTS, Browsing, api_token
from .helpers import inn10, reload_until

pytestmark = pytest.mark.browser
SHOTS = Path(ARTIFACTS) / "requests"


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def a_client(system: System) -> dict[str, str]:
    head = api_token(system, "head")
    client = httpx.post(
        f"{system.urls['contracts']}/api/clients",
        headers=head,
        json={
            "name": f"ООО «Обращение {uuid.uuid4().hex[:6]}»",
            "inn": inn10(),
            "email": "request@example.ru",
            "manager": "manager1",
        },
    ).json()

    def known_to_the_work_queue() -> bool:  # notifications learns the client from its event
        r = httpx.get(
            f"{system.urls['notifications']}/api/clients/{client['id']}/timeline", headers=head
        )
        return r.status_code == 200

    eventually(known_to_the_work_queue, timeout=30)
    return client


def test_a_manager_registers_a_request_and_billing_answers_it(
    browsing: Browsing, system: System
) -> None:
    client = a_client(system)
    manager = browsing.logged_in("manager1")
    manager.goto(f"/clients/{client['id']}")
    manager.get_by_test_id("register-request").click()
    form = manager.get_by_test_id("request-form")
    expect(form.get_by_label("Клиент")).to_have_value(f"{client['name']} (ИНН {client['inn']})")
    # nothing picked, nothing written: the refusal sits next to the fields
    form.locator("button[type=submit]").click()
    expect(manager.locator("[data-field=kind]")).to_contain_text("Выберите тип обращения")
    expect(manager.locator("[data-field=subject]")).to_contain_text("Заполните поле")
    shot(manager, "form-refused")
    form = manager.get_by_test_id("request-form")
    form.locator("select[name=kind]").select_option(label="Оплата, платёж")
    form.locator("select[name=channel]").select_option(label="Звонок")
    subject = f"Оплатили 18 300,00 ₽, а счёт висит неоплаченным {uuid.uuid4().hex[:4]}"
    form.locator("textarea[name=subject]").fill(subject)
    form.locator("button[type=submit]").click()
    expect(manager.get_by_test_id("flash")).to_contain_text("Обращение зарегистрировано")
    number = manager.get_by_test_id("request-number").inner_text().removeprefix("Обращение № ")
    assert number.startswith(f"ОБ-{business_today().year}-"), number
    expect(manager.get_by_test_id("request-state")).to_have_text("ждёт ответа")
    expect(manager.locator("body")).to_contain_text("расчёты с клиентами")
    expect(manager.get_by_test_id("answer-form")).to_have_count(0)  # billing answers it
    reload_until(
        manager, lambda: "очередь расчётов с клиентами" in manager.locator("body").inner_text()
    )
    shot(manager, "record-open")

    billing = browsing.logged_in("billing")
    billing.goto("/")
    waiting = billing.locator(f"#requests li[data-request='{number}']")
    expect(waiting).to_contain_text(subject)
    shot(billing, "my-day-billing")
    billing.get_by_role("link", name="Обращения", exact=True).click()
    expect(billing.locator(f"tr[data-request='{number}']")).to_contain_text(client["name"])
    shot(billing, "journal")
    billing.goto("/")
    waiting.get_by_role("link", name=f"№ {number}").click()
    answer = billing.get_by_test_id("answer-form")
    answer.locator("button[type=submit]").click()
    expect(billing.locator("[data-field=answer]")).to_contain_text("Заполните поле")
    answer = billing.get_by_test_id("answer-form")
    answer.locator("textarea[name=answer]").fill(
        "Платёж нашли: пришёл без номера счёта, разнесли на счёт, долга нет."
    )
    answer.locator("button[type=submit]").click()
    expect(billing.get_by_test_id("flash")).to_contain_text("письмо клиенту поставлено")
    expect(billing.get_by_test_id("request-state")).to_have_text("дан ответ")
    expect(billing.get_by_test_id("request-answer")).to_contain_text("Платёж нашли")
    expect(billing.locator("body")).to_contain_text("Кузнецова Ольга")
    shot(billing, "record-answered")

    manager.goto(f"/clients/{client['id']}")
    expect(manager.locator(f"#requests li[data-request='{number}']")).to_contain_text("дан ответ")
    reload_until(
        manager,
        lambda: f"Дан ответ на обращение № {number}" in manager.locator("#timeline").inner_text(),
    )
    expect(manager.locator("#timeline")).to_contain_text(f"Обращение № {number} (звонок, ")
    shot(manager, "client-card")
    head = api_token(system, "head")

    def mailed() -> bool:
        r = httpx.get(
            f"{system.urls['notifications']}/api/mail",
            headers=head,
            params={"client_id": client["id"]},
        )
        return any(m.get("template") == "request_answered" for m in r.json())

    eventually(mailed, timeout=30)

    # from the journal: the client is found by search and picked from the list
    manager.goto("/requests")
    manager.get_by_test_id("new-request").click()
    manager.get_by_test_id("client-search").get_by_label("Найти клиента").fill(client["inn"])
    manager.get_by_test_id("client-search").locator("button").click()
    form = manager.get_by_test_id("request-form")
    form.locator("select[name=client_id]").select_option(
        label=f"{client['name']} (ИНН {client['inn']})"
    )
    form.locator("select[name=kind]").select_option(label="Проблема с терминалом или оборудованием")
    form.locator("select[name=channel]").select_option(label="Письмо")
    form.locator("textarea[name=subject]").fill("Терминал на входе не принимает купюры")
    shot(manager, "form-picked")
    form.locator("button[type=submit]").click()
    expect(manager.get_by_test_id("flash")).to_contain_text("Обращение зарегистрировано")
    second = manager.get_by_test_id("request-number").inner_text().removeprefix("Обращение № ")
    manager.goto("/requests?state=open&function=field_ops")
    expect(manager.locator(f"tr[data-request='{second}']")).to_contain_text("выездные работы")
    expect(manager.locator(f"tr[data-request='{number}']")).to_have_count(0)


def test_the_head_sets_a_task_for_someone_picked_by_name(
    browsing: Browsing, system: System
) -> None:
    head = browsing.logged_in("head")
    head.goto("/")
    head.get_by_test_id("new-task").click()
    form = head.get_by_test_id("task-form")
    title = f"Сверить реестр аренды за месяц {uuid.uuid4().hex[:4]}"
    form.locator("input[name=title]").fill(title)
    form.locator("input[name=due_on]").fill((business_today() - timedelta(days=1)).isoformat())
    form.get_by_test_id("assignee").select_option(label="Кузнецова Ольга")
    form.locator("button[type=submit]").click()
    expect(head.locator("[data-field=due_on]")).to_contain_text("в прошлом")
    form = head.get_by_test_id("task-form")
    form.locator("input[name=due_on]").fill(business_today().isoformat())
    form.locator("button[type=submit]").click()
    expect(head.get_by_test_id("flash")).to_have_text("Задача поставлена.")
    head.goto("/head")
    expect(head.locator("#open-requests")).to_contain_text("Ждут ответа")
    shot(head, "head-dashboard")

    billing = browsing.logged_in("billing")
    billing.goto("/")
    # due 18:00 today: «Сегодня», or «Просрочено» when the test runs in the evening
    expect(billing.locator("#overdue, #today").filter(has_text=title)).to_have_count(1)

    manager = browsing.logged_in("manager1")
    manager.goto("/my-day/tasks/new")
    expect(manager.get_by_test_id("assignee")).to_have_count(0)  # for oneself only
    manager.get_by_test_id("task-form").locator("input[name=title]").fill(f"Себе: {title}")
    shot(manager, "task-form")
    manager.get_by_test_id("task-form").locator("button[type=submit]").click()
    expect(manager.get_by_test_id("flash")).to_have_text("Задача поставлена.")
    expect(manager.locator("#overdue, #today").filter(has_text=f"Себе: {title}")).to_have_count(1)
