"""User administration for ``admin``: accounts, roles, lockouts, passwords."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from clientops_shared.auth import ROLES
from clientops_shared.errors import Conflict, InvalidInput, NotFound
from clientops_shared.runtime import runtime_of
from web.adapters.services import ServiceError
from web.entrypoints.pages.framework import (
    CheckedViewer,
    PageForbidden,
    PageNotFound,
    Viewer,
    form_str,
    panel,
    redirect,
    render,
    viewer_with_roles,
)
from web.service_layer import handlers

router = APIRouter(prefix="/admin", include_in_schema=False)
AdminViewer = Annotated[Viewer, Depends(viewer_with_roles("admin"))]
OwnersViewer = Annotated[Viewer, Depends(viewer_with_roles("head"))]  # head and admin
OWNER_ROLES = ("manager", "sales", "head")
ASSIGNABLE_ROLES = sorted(ROLES - {"service"})


async def _users_page(request: Request, *, errors: dict[str, str] | None = None,
                      values: dict[str, str] | None = None, status: int = 200,
                      notice: str | None = None) -> Response:
    async with runtime_of(request).uow() as uow:
        users = [{"username": u.username, "full_name": u.full_name, "role": u.role,
                  "active": u.active, "locked_until": u.locked_until}
                 for u in await uow.users()]
    return render(request, "desks/admin/users.html", {
        "users": users, "roles": ASSIGNABLE_ROLES, "errors": errors or {},
        "values": values or {"role": "manager"}, "notice": notice,
        "now": datetime.now(UTC)}, status=status)


@router.get("/users")
async def users(request: Request, viewer: AdminViewer, saved: str | None = None) -> Response:
    return await _users_page(request, notice=f"Сохранено: {saved}" if saved else None)


def _only_admin(viewer: Viewer) -> None:
    if viewer.role != "admin":
        raise PageForbidden("Пользователями управляет администратор.")


@router.post("/users")
async def create_user(request: Request, viewer: CheckedViewer) -> Response:
    _only_admin(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in ("username", "full_name", "role")}
    try:
        async with runtime_of(request).uow() as uow:
            await handlers.create_user(uow, values["username"], values["role"],
                                       values["full_name"], str(form.get("password") or ""))
    except InvalidInput as exc:
        return await _users_page(request, errors={exc.field: exc.detail.split(": ", 1)[-1]},
                                 values=values, status=422)
    except Conflict:
        return await _users_page(request, errors={"username": "такой пользователь уже есть"},
                                 values=values, status=409)
    return redirect(f"/admin/users?saved={values['username']}", request)


@router.post("/users/{username}")
async def update_user(username: str, request: Request, viewer: CheckedViewer) -> Response:
    _only_admin(viewer)
    form = await request.form()
    active = form.get("active") == "on"
    if username == viewer.username and (not active or form_str(form, "role") != "admin"):
        return await _users_page(request, status=422, errors={
            "self": "Нельзя снять с себя роль администратора или отключить свою учётную запись."})
    try:
        async with runtime_of(request).uow() as uow:
            await handlers.update_user(uow, username, role=form_str(form, "role"),
                                       full_name=form_str(form, "full_name"), active=active,
                                       password=str(form.get("password") or "") or None)
    except NotFound:
        raise PageNotFound(f"Нет пользователя {username}.") from None
    except InvalidInput as exc:
        return await _users_page(request, status=422, errors={
            f"{username}.{exc.field}": exc.detail.split(": ", 1)[-1]})
    return redirect(f"/admin/users?saved={username}", request)




# --- which clients a manager owns ------------------------------------------------------------


async def owners(request: Request) -> list[dict[str, str]]:
    async with runtime_of(request).uow() as uow:
        return [{"username": u.username, "full_name": u.full_name}
                for u in await uow.users() if u.active and u.role in OWNER_ROLES]


async def not_an_owner(request: Request, username: str) -> str | None:
    """Why a client cannot be given to ``username`` (None: an active manager may own it)."""
    if username in {o["username"] for o in await owners(request)}:
        return None
    return ("Клиента можно закрепить только за менеджером (менеджер, менеджер отдела продаж "
            "или руководитель); выберите его из списка.")


@router.get("/clients")
async def clients(request: Request, viewer: OwnersViewer, manager: str = "",
                  moved: int | None = None) -> Response:
    """One manager's clients (or the unassigned ones), to hand some of them to another."""
    path, params = (("/api/clients/unassigned", {}) if manager == "" else
                    ("/api/clients", {"manager": manager}))
    listed = await panel(viewer.services.get_page("contracts", path, limit=500, **params))
    return render(request, "desks/admin/clients.html", {
        "owners": await owners(request), "manager": manager, "clients": listed,
        "notice": f"Передано клиентов: {moved}." if moved is not None else None,
        "error": request.query_params.get("error")})


@router.post("/clients/assign")
async def assign(request: Request, viewer: CheckedViewer) -> Response:
    if not viewer.has_role("head"):
        raise PageForbidden("Клиентов между менеджерами передают руководитель и администратор.")
    form = await request.form()
    source, target = form_str(form, "from"), form_str(form, "manager")
    ids = [str(v) for v in form.getlist("client_ids") if isinstance(v, str) and v]
    back = f"/admin/clients?manager={quote(source)}"
    if not ids or not target:
        return redirect(back + "&error=" + quote("Отметьте клиентов и выберите менеджера."),
                        request)
    problem = await not_an_owner(request, target)
    if problem:
        return redirect(back + "&error=" + quote(problem), request)
    try:
        result = await viewer.services.post("contracts", "/api/clients/assign",
                                            json={"client_ids": ids, "manager": target})
    except ServiceError as exc:
        if exc.status in (403, 404, 409, 422):
            return redirect(back + "&error=" + quote(exc.message[:300]),
                            request)
        raise
    return redirect(f"{back}&moved={len(result.get('reassigned', []))}", request)


# --- staff e-mail addresses (notifications' digests and escalations) --------------------------


StaffViewer = Annotated[Viewer, Depends(viewer_with_roles("head"))]  # head and admin


def staff_rows(users: list[dict[str, Any]], staff: list[dict[str, Any]]
               ) -> list[dict[str, Any]]:
    """Every active person (and anyone notifications knows) with the address their mail
    goes to; people without one first, since nothing reaches them."""
    known = {s["username"]: s for s in staff}
    rows = [{"username": u["username"], "full_name": u["full_name"], "role": u["role"],
             "staff": known.get(u["username"])} for u in users]
    listed = {u["username"] for u in users}
    rows += [{"username": s["username"], "full_name": s.get("full_name") or "", "role": None,
              "staff": s} for s in staff if s["username"] not in listed]
    return sorted(rows, key=lambda r: (r["staff"] is not None, r["username"]))


async def _staff_page(request: Request, viewer: Viewer, *,
                      errors: dict[str, str] | None = None,
                      values: dict[str, dict[str, str]] | None = None, status: int = 200,
                      notice: str | None = None) -> Response:
    async with runtime_of(request).uow() as uow:
        users = [{"username": u.username, "full_name": u.full_name, "role": u.role}
                 for u in await uow.users() if u.active and u.role != "service"]
    staff = await panel(viewer.services.get("notifications", "/api/staff"))
    rows = staff_rows(users, staff.data) if staff.ok else []
    return render(request, "desks/admin/staff.html", {
        "staff": staff, "rows": rows, "errors": errors or {}, "values": values or {},
        "notice": notice, "missing": sum(1 for r in rows if r["staff"] is None)},
        status=status)


@router.get("/staff")
async def staff_page(request: Request, viewer: StaffViewer, saved: str | None = None
                     ) -> Response:
    return await _staff_page(request, viewer, notice=(
        f"Адрес сотрудника {saved} сохранён." if saved else None))


@router.post("/staff/{username}")
async def save_staff(username: str, request: Request, viewer: CheckedViewer) -> Response:
    if not viewer.has_role("head"):
        raise PageForbidden("Адреса сотрудников меняют руководитель и администратор.")
    form = await request.form()
    values = {"email": form_str(form, "email"), "full_name": form_str(form, "full_name"),
              "digest": "on" if form.get("digest") == "on" else "",
              "active": "on" if form.get("active") == "on" else ""}
    if not values["email"]:
        return await _staff_page(request, viewer, status=422, values={username: values},
                                 errors={f"{username}.email": "Укажите адрес e-mail."})
    try:
        await viewer.services.put("notifications", f"/api/staff/{quote(username, safe='')}",
                                  json={"email": values["email"],
                                        "full_name": values["full_name"] or None,
                                        "digest": bool(values["digest"]),
                                        "active": bool(values["active"])})
    except ServiceError as exc:
        if exc.status == 422:
            return await _staff_page(request, viewer, status=422, values={username: values},
                                     errors={f"{username}.{k or 'email'}": v for k, v in (
                                         exc.field_errors() or {"": exc.message}).items()})
        raise
    return redirect(f"/admin/staff?saved={quote(username)}", request)
