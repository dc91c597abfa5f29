"""Log-in and log-out pages: argon2 check, back-off, session cookie, CSRF on the form."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from clientops_shared.auth import Unauthorized
from clientops_shared.runtime import runtime_of
from web.entrypoints.api.routes import client_address
from web.entrypoints.pages.framework import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CheckedViewer,
    form_str,
    render,
    settings_of,
)
from web.service_layer import handlers

router = APIRouter(include_in_schema=False)


def _safe_next(value: str | None) -> str:
    # only a path on this site: never an open redirect to another host
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _login_form(request: Request, *, next_url: str, username: str = "",
                error: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", {"csrf": token, "next": next_url,
                                              "username": username, "error": error},
                      status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True,
                        secure=settings_of(request).cookie_secure, samesite="strict",
                        path="/login")
    return response


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    return _login_form(request, next_url=_safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    username, password = form_str(form, "username"), str(form.get("password") or "")
    next_url = _safe_next(form_str(form, "next"))
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = form_str(form, CSRF_FIELD)
    if not cookie_token or not sent or not secrets.compare_digest(sent, cookie_token):
        return _login_form(request, next_url=next_url, username=username, status=403,
                           error="Форма входа устарела. Попробуйте ещё раз.")
    if not username or not password:
        return _login_form(request, next_url=next_url, username=username, status=422,
                           error="Введите имя пользователя и пароль.")
    settings = settings_of(request)
    ttl = timedelta(minutes=settings.session_minutes)
    try:
        async with runtime_of(request).uow() as uow:
            started = await handlers.start_session(
                uow, username, password, secret=settings.jwt_secret, ttl=ttl,
                token_ttl=timedelta(minutes=settings.token_ttl_minutes),
                address=client_address(request), throttle=settings.throttle())
    except handlers.TooManyAttempts as exc:
        response = _login_form(request, next_url=next_url, username=username, status=429,
                               error="Слишком много неудачных попыток входа. Повторите через "
                                     f"{exc.retry_after} с.")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthorized:
        return _login_form(request, next_url=next_url, username=username, status=401,
                           error="Неверное имя пользователя или пароль.")
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(SESSION_COOKIE, started.cookie_value, max_age=int(ttl.total_seconds()),
                        httponly=True, secure=settings.cookie_secure, samesite="lax", path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, viewer: CheckedViewer) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        async with runtime_of(request).uow() as uow:
            await handlers.end_session(uow, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=settings_of(request).cookie_secure,
                           httponly=True, samesite="lax")
    return response


def security_headers() -> dict[str, Any]:
    return {
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; "
                                    "style-src 'self' 'unsafe-inline'; script-src 'self'; "
                                    "frame-ancestors 'none'; form-action 'self'"),
    }
