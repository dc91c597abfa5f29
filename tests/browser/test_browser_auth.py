"""Logging in and out in the browser: the session cookie, back-off (never a lock) after
repeated failures, CSRF on forms, and the admin's user page (create, roles)."""

from __future__ import annotations

import re
import time
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


def test_wrong_passwords_slow_down_but_never_lock_the_owner_out(browsing: Browsing) -> None:
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
    errors = []
    for _ in range(6):
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "неправильный")
        page.click("form[action='/login'] button[type=submit]")
        errors.append(page.get_by_test_id("login-error").inner_text())
    assert "Неверное имя пользователя или пароль." in errors[0]
    assert all("Неверное имя" in e or "Слишком много неудачных попыток" in e for e in errors)

    # the back-off ends by itself within seconds (a minute at most): no admin has to unlock
    deadline = time.monotonic() + 70
    while True:
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_load_state()
        if "/login" not in page.url or time.monotonic() > deadline:
            break
        expect(page.get_by_test_id("login-error")).to_contain_text("Слишком много")
        time.sleep(1)
    expect(page.get_by_test_id("who")).to_contain_text("Новый Менеджер")


def test_only_the_admin_manages_users(browsing: Browsing) -> None:
    page = browsing.logged_in("head")
    response = page.goto("/admin/users")
    assert response is not None and response.status == 403
    expect(page.locator("header nav .desks")).not_to_contain_text("Пользователи")
    admin = browsing.logged_in("admin")
    admin.goto("/")
    expect(admin.locator("header nav .desks")).to_contain_text("Пользователи")
