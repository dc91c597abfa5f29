"""The head's dashboard in the browser: workload and overdue work, and moving a client's
tasks from manager1 to manager2, who then has them on My day."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System, eventually

from .conftest import Browsing, api_token
from .helpers import inn10, reload_until

pytestmark = pytest.mark.browser


def test_head_moves_a_clients_tasks_to_another_manager(browsing: Browsing,
                                                        system: System) -> None:
    auth = api_token(system, "manager1")
    contracts = system.urls["contracts"]
    name = f"ООО «Отпуск {uuid.uuid4().hex[:6]}»"
    client = httpx.post(f"{contracts}/api/clients", headers=auth, json={
        "name": name, "inn": inn10(), "email": "away@example.ru", "manager": "manager1"})
    assert client.status_code == 201, client.text
    client_id = client.json()["id"]
    contract = httpx.post(f"{contracts}/api/contracts", headers=auth, json={
        "client_id": client_id, "kind": "subscription",
        "starts_on": business_today().replace(day=1).isoformat(), "monthly_fee": "5000.00",
        "auto_renew": True, "standard": True}).json()
    signed = httpx.post(f"{contracts}/api/contracts/{contract['id']}/sign", headers=auth,
                        json={"signed_on": business_today().isoformat()})
    assert signed.status_code == 200, signed.text
    eventually(lambda: httpx.get(f"{system.urls['notifications']}/api/tasks", headers=auth,
                                 params={"client_id": client_id, "assignee": "manager1"}).json())

    head = browsing.logged_in("head")
    head.goto("/head")
    expect(head.locator("#workload table").first).to_contain_text("Иванова Мария")  # manager1
    expect(head.locator("#aging")).to_contain_text("Всего не оплачено")
    form = head.locator("form[action='/head/reassign']")
    form.locator("select[name=client_id]").select_option(client_id)
    form.locator("select[name=from_assignee]").select_option("manager1")
    form.locator("select[name=to_assignee]").select_option("manager2")
    form.locator("input[name=note]").fill("manager1 в отпуске")
    form.locator("button[type=submit]").click()
    head.wait_for_url(re.compile(r"/head\?moved=\d+"))
    moved = re.search(r"Передано задач: (\d+)", head.get_by_test_id("moved").inner_text())
    assert moved is not None and int(moved.group(1)) >= 1
    expect(head.locator("#reassign")).to_contain_text("Иванова Мария → Смирнов Алексей")

    manager2 = browsing.logged_in("manager2")
    reload_until(manager2, lambda: manager2.locator(
        f"li[data-kind=welcome_call]:has-text('{name}')").count() == 1)
    manager1 = browsing.logged_in("manager1")
    expect(manager1.locator(f"li:has-text('{name}')")).to_have_count(0)


def test_head_must_choose_whom_to_give_the_tasks(browsing: Browsing) -> None:
    head = browsing.logged_in("head")
    head.goto("/head")
    form = head.locator("form[action='/head/reassign']")
    form.locator("select[name=to_assignee]").evaluate("s => s.removeAttribute('required')")
    form.locator("button[type=submit]").click()
    expect(head.locator(".field-error[data-field=to_assignee]")).to_be_visible()


def test_admin_hands_a_client_to_another_manager(browsing: Browsing, system: System) -> None:
    auth = api_token(system, "manager1")
    name = f"ООО «Передача {uuid.uuid4().hex[:6]}»"
    client = httpx.post(f"{system.urls['contracts']}/api/clients", headers=auth, json={
        "name": name, "inn": inn10(), "email": "move@example.ru", "manager": "manager1"})
    assert client.status_code == 201, client.text
    client_id = client.json()["id"]

    admin = browsing.logged_in("admin")
    admin.goto("/admin/clients?manager=manager1")
    row = admin.locator(f"tr[data-client='{client_id}']")
    expect(row).to_contain_text(name)
    row.locator("input[name=client_ids]").check()
    admin.locator("form#assign select[name=manager]").select_option("manager2")
    admin.locator("form#assign button[type=submit]").click()
    expect(admin.get_by_test_id("notice")).to_have_text("Передано клиентов: 1.")
    expect(admin.locator(f"tr[data-client='{client_id}']")).to_have_count(0)

    manager2 = browsing.logged_in("manager2")
    manager2.goto(f"/clients/{client_id}")
    expect(manager2.get_by_test_id("client-name")).to_have_text(name)
    manager1 = browsing.logged_in("manager1")
    response = manager1.goto(f"/clients/{client_id}")
    assert response is not None and response.status == 403


def _done_this_week(page: Page, person: str) -> int:
    cells = page.locator(f"[data-testid=week-chart] tr[data-person='{person}'] td.bar-cell")
    return int(cells.last.get_attribute("data-count") or 0) if cells.count() else 0


def test_the_chart_of_tasks_done_per_week_counts_a_task_done_now(browsing: Browsing,
                                                                 system: System) -> None:
    auth = api_token(system, "manager1")
    contracts = system.urls["contracts"]
    client = httpx.post(f"{contracts}/api/clients", headers=auth, json={
        "name": f"ООО «Неделя {uuid.uuid4().hex[:6]}»", "inn": inn10(),
        "email": "week@example.ru", "manager": "manager1"})
    assert client.status_code == 201, client.text
    client_id = client.json()["id"]
    contract = httpx.post(f"{contracts}/api/contracts", headers=auth, json={
        "client_id": client_id, "kind": "subscription",
        "starts_on": business_today().replace(day=1).isoformat(), "monthly_fee": "3000.00",
        "auto_renew": True, "standard": True}).json()
    assert httpx.post(f"{contracts}/api/contracts/{contract['id']}/sign", headers=auth,
                      json={"signed_on": business_today().isoformat()}).status_code == 200
    notifications = system.urls["notifications"]
    (task, *_) = eventually(lambda: httpx.get(
        f"{notifications}/api/tasks", headers=auth,
        params={"client_id": client_id, "assignee": "manager1", "state": "open"}).json())

    head = browsing.logged_in("head")
    head.goto("/head?weeks=4")
    chart = head.get_by_test_id("week-chart")
    expect(chart.locator("thead th[data-week]")).to_have_count(4)
    before = _done_this_week(head, "manager1")
    done = httpx.post(f"{notifications}/api/tasks/{task['id']}/done", headers=auth,
                      json={"outcome": "позвонил, всё в порядке"})
    assert done.status_code == 200, done.text

    head.reload()
    assert _done_this_week(head, "manager1") == before + 1
    row = chart.locator("tr[data-person='manager1']")
    # the busiest week of anyone is the full bar; every bar is a share of it
    heights = [int(re.sub(r"\D", "", bar.get_attribute("style") or "") or 0)
               for bar in head.locator("[data-testid=week-chart] .vbar").all()]
    assert max(heights) == 100
    expect(row.locator("td.bar-cell").last).to_contain_text(str(before + 1))
    head.goto("/head?weeks=12")
    expect(chart.locator("thead th[data-week]")).to_have_count(12)
