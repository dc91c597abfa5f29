"""Staff e-mail addresses for the morning digests and escalations: the admin sets one in the
browser (a wrong address refused at its field), notifications has it; the head may too, a
manager may not."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from clientops_shared.testing import System

from .conftest import Browsing, api_token

pytestmark = pytest.mark.browser


def test_admin_sets_a_staff_address_for_digests_and_escalations(browsing: Browsing,
                                                                system: System) -> None:
    admin = browsing.logged_in("admin")
    admin.goto("/admin/users")
    admin.click("nav.tabs >> text=E-mail сотрудников")
    expect(admin.locator("main h1")).to_have_text("E-mail сотрудников")
    row = admin.locator("#staff tr[data-staff='manager2']")
    expect(row).to_contain_text("Менеджер")

    row.locator("input[name=email]").fill("manager2@")
    row.locator("button", has_text="Сохранить").click()
    expect(row.locator(".field-error[data-field=email]")).to_have_text("Неверный адрес e-mail.")
    expect(row.locator("input[name=email]")).to_have_value("manager2@")

    row.locator("input[name=email]").fill("manager2@clientops.example")
    row.locator("input[name=full_name]").fill("Мария Смирнова")
    row.locator("input[name=digest]").uncheck()
    row.locator("button", has_text="Сохранить").click()
    expect(admin.get_by_test_id("notice")).to_have_text("Адрес сотрудника manager2 сохранён.")
    expect(row.locator("input[name=email]")).to_have_value("manager2@clientops.example")
    expect(row.locator("input[name=digest]")).not_to_be_checked()
    expect(row.locator("input[name=active]")).to_be_checked()

    staff = httpx.get(f"{system.urls['notifications']}/api/staff",
                      headers=api_token(system, "head")).json()
    saved = next(s for s in staff if s["username"] == "manager2")
    assert (saved["email"], saved["full_name"], saved["digest"], saved["active"]) == (
        "manager2@clientops.example", "Мария Смирнова", False, True)

    head = browsing.logged_in("head")
    head.goto("/head")
    head.click("text=E-mail сотрудников")
    expect(head.locator("#staff tr[data-staff='manager2'] input[name=email]")).to_have_value(
        "manager2@clientops.example")
    manager = browsing.logged_in("manager1")
    refused = manager.goto("/admin/staff")
    assert refused is not None and refused.status == 403
