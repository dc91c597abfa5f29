"""My day's bulk actions in the browser: several tasks done at once, one snoozed to a date
(it leaves the list and is counted as snoozed), as notifications records them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System, eventually

from .conftest import Browsing, api_token
from .helpers import inn10, reload_until

pytestmark = pytest.mark.browser


def welcome_call_for(system: System, name: str) -> str:
    auth = api_token(system, "manager2")
    contracts = system.urls["contracts"]
    client = httpx.post(f"{contracts}/api/clients", headers=auth, json={
        "name": name, "inn": inn10(), "email": "bulk@example.ru", "manager": "manager2"})
    assert client.status_code == 201, client.text
    contract = httpx.post(f"{contracts}/api/contracts", headers=auth, json={
        "client_id": client.json()["id"], "kind": "subscription",
        "starts_on": business_today().replace(day=1).isoformat(), "monthly_fee": "1000.00",
        "auto_renew": True, "standard": True}).json()
    assert httpx.post(f"{contracts}/api/contracts/{contract['id']}/sign", headers=auth,
                      json={"signed_on": business_today().isoformat()}).status_code == 200
    tasks = eventually(lambda: httpx.get(
        f"{system.urls['notifications']}/api/tasks", headers=auth,
        params={"client_id": client.json()["id"], "kind": "welcome_call"}).json())
    return str(tasks[0]["id"])


def test_bulk_done_and_snooze_on_my_day(browsing: Browsing, system: System) -> None:
    tag = uuid.uuid4().hex[:6]
    names = [f"ООО «Пакет {tag} {n}»" for n in range(3)]
    ids = [welcome_call_for(system, name) for name in names]

    page = browsing.logged_in("manager2")
    reload_until(page, lambda: all(page.locator(f"li[data-task='{i}']").count() == 1
                                   for i in ids))
    snoozed_before = page.locator("hgroup p").inner_text()
    for task_id in ids[:2]:
        page.locator(f"li[data-task='{task_id}'] input[name=ids]").check()
    page.locator("form#bulk button[value=done]").click()
    expect(page.get_by_test_id("flash")).to_have_text("Отмечено как сделанное.")
    for task_id in ids[:2]:
        expect(page.locator(f"li[data-task='{task_id}']")).to_have_count(0)
    expect(page.locator(f"li[data-task='{ids[2]}']")).to_have_count(1)

    # nothing ticked: the page says so instead of failing
    page.locator("form#bulk button[value=done]").click()
    expect(page.get_by_test_id("error")).to_have_text("Отметьте задачи галочками.")

    page.locator(f"li[data-task='{ids[2]}'] input[name=ids]").check()
    until = business_today() + timedelta(days=5)
    page.locator("form#bulk input[name=until]").fill(until.isoformat())
    page.locator("form#bulk button[value=snooze]").click()
    expect(page.get_by_test_id("flash")).to_have_text("Отложено.")
    expect(page.locator(f"li[data-task='{ids[2]}']")).to_have_count(0)
    assert page.locator("hgroup p").inner_text() != snoozed_before

    auth = api_token(system, "manager2")
    states = {i: httpx.get(f"{system.urls['notifications']}/api/tasks/{i}",
                           headers=auth).json() for i in ids}
    assert [states[i]["state"] for i in ids] == ["done", "done", "snoozed"]
    assert states[ids[2]]["snoozed_until"].startswith(until.isoformat())
