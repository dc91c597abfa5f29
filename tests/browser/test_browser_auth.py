"""Logging in and out in the browser: the session cookie, lockout after repeated failures,
CSRF on forms, and the admin's user page (create, unlock, roles)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from .conftest import Browsing, login

pytestmark = pytest.mark.browser


def test_login_sets_a_secure_session_and_logout_ends_it(browsing: Browsing) -> None:
    page = browsing.page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    login(page, "manager1")
    expect(page.get_by_test_id("who")).to_contain_text("Иванова Мария")
    cookie = next(c for c in page.context.cookies() if c["name"] == "clientops_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"

    # a state-changing request without the form's CSRF token is refused
    response = page.request.post("/logout", form={"csrf_token": "forged"})
    assert response.status == 403
    assert "CSRF" in response.text()
    page.goto("/")
    expect(page.get_by_test_id("who")).to_be_visible()  # still logged in

    page.click("text=Выйти")
    expect(page).to_have_url(re.compile(r"/login$"))
    assert not [c for c in page.context.cookies() if c["name"] == "clientops_session"]
    # the old session id is dead on the server too, not just forgotten by the browser
    page.context.add_cookies([{**cookie}])
    page.goto("/contracts")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fcontracts$"))


def test_wrong_passwords_lock_the_account_until_the_admin_unlocks_it(
        browsing: Browsing) -> None:
    username = f"m{uuid.uuid4().hex[:8]}"
    password = "Длинный-пароль-1"
    admin = browsing.logged_in("admin")
    admin.goto("/admin/users")
    create = admin.locator("form[action='/admin/users']")
    create.locator("input[name=username]").fill(username)
    create.locator("input[name=full_name]").fill("Новый Менеджер")
    create.locator("select[name=role]").select_option("manager")
    create.locator("input[name=password]").fill("short")
    create.locator("button[type=submit]").click()
    expect(admin.locator("form[action='/admin/users'] .field-error")).to_contain_text("10")
    create = admin.locator("form[action='/admin/users']")
    create.locator("input[name=password]").fill(password)
    create.locator("button[type=submit]").click()
    expect(admin.locator(f"tr[data-user='{username}']")).to_be_visible()

    page = browsing.page()
    for _ in range(5):
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "неправильный")
        page.click("form[action='/login'] button[type=submit]")
    expect(page.get_by_test_id("login-error")).to_contain_text("заблокирована")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    expect(page.get_by_test_id("login-error")).to_contain_text("заблокирована")

    admin.goto("/admin/users")
    row = admin.locator(f"tr[data-user='{username}']")
    expect(row).to_contain_text("до ")  # locked until …
    row.locator("button", has_text="Сохранить").click()
    expect(admin.locator(f"tr[data-user='{username}']")).not_to_contain_text("до ")

    login(page, username, password)
    expect(page.get_by_test_id("who")).to_contain_text("Новый Менеджер")


def test_only_the_admin_manages_users(browsing: Browsing) -> None:
    page = browsing.logged_in("head")
    response = page.goto("/admin/users")
    assert response is not None and response.status == 403
    expect(page.locator("header nav .desks")).not_to_contain_text("Пользователи")
    admin = browsing.logged_in("admin")
    admin.goto("/")
    expect(admin.locator("header nav .desks")).to_contain_text("Пользователи")
