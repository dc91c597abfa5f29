"""Clients' requests (обращения, seeds 000 §1, §20; 004 §7.5): register a client's call or
letter from the client card (the client picked by search, the kind from a list), the journal
with filters, the record with the routed function's answer form. The request is kept, routed
and answered by notifications; the client is mailed when it is answered."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.entrypoints.pages.framework import (
    CheckedViewer,
    CurrentViewer,
    PageForbidden,
    Viewer,
    form_str,
    panel,
    panels,
    redirect,
    render,
    uuid_or_blank,
    viewer_with_roles,
)

router = APIRouter(prefix="/requests", include_in_schema=False)

REGISTRARS = ("manager", "head", "billing", "accountant", "dispatcher", "lawyer", "sales")
RegistrarViewer = Annotated[Viewer, Depends(viewer_with_roles(*REGISTRARS))]
KINDS = {
    "question": "Вопрос по работе с приложением",
    "payment": "Оплата, платёж",
    "terminal": "Проблема с терминалом или оборудованием",
    "contract": "Вопрос по договору",
}
CHANNELS = {"call": "Звонок", "letter": "Письмо", "email": "Электронная почта"}
STATES = {"open": "Ждут ответа", "answered": "С ответом"}
FUNCTIONS = {
    "support": "Техподдержка",
    "billing": "Расчёты с клиентами",
    "field_ops": "Выездные работы",
    "contracts": "Договоры",
}
# who answers a function's requests (the head and admin answer any); a manager their clients'
ANSWERERS = {
    "support": {"manager"},
    "billing": {"billing", "accountant"},
    "field_ops": {"dispatcher"},
    "contracts": {"manager", "lawyer"},
}
# the journal opens on the viewer's own function
HOME_FUNCTION = {"billing": "billing", "accountant": "billing", "dispatcher": "field_ops"}
FLASH = {
    "registered": "Обращение зарегистрировано и передано отвечающей функции.",
    "answered": "Ответ сохранён; письмо клиенту поставлено в очередь отправки.",
}
FIELDS = ("client_id", "kind", "channel", "subject")


def form_key(form: Any) -> dict[str, str] | None:
    """The rendered form's Idempotency-Key: a form sent again after Back changes nothing."""
    try:
        return {"Idempotency-Key": str(uuid.UUID(form_str(form, "idempotency_key")))}
    except ValueError:
        return None


def may_answer(viewer: Viewer, row: dict[str, Any]) -> bool:
    if row.get("state") != "open":
        return False
    if viewer.has_role("head"):
        return True
    roles = ANSWERERS.get(str(row.get("function")), set())
    if viewer.role not in roles:
        return False
    return viewer.role != "manager" or row.get("manager") == viewer.username


@router.get("")
async def journal(
    request: Request,
    viewer: CurrentViewer,
    state: Annotated[str | None, Query(max_length=20)] = None,
    function: Annotated[str | None, Query(max_length=20)] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    if state is None:
        state = "open"
    if function is None:
        function = HOME_FUNCTION.get(viewer.role, "")
    params: dict[str, Any] = {"limit": 50, "offset": (page - 1) * 50}
    if state in STATES:
        params["state"] = state
    if function in FUNCTIONS:
        params["function"] = function
    if kind in KINDS:
        params["kind"] = kind
    if q.strip():
        params["q"] = q.strip()
    rows = await panel(viewer.services.get_page("notifications", "/api/requests", **params))
    return render(
        request,
        "desks/requests/journal.html",
        {
            "rows": rows,
            "state": state,
            "function": function,
            "kind": kind or "",
            "q": q,
            "page": page,
            "states": STATES,
            "functions": FUNCTIONS,
            "kinds": KINDS,
            "may_register": viewer.has_role(*REGISTRARS),
        },
    )


async def pick_client(
    viewer: Viewer, values: dict[str, str], errors: dict[str, str]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], bool]:
    """The client a form is for: the one picked (``client_id``), else the ones found by the
    search (``q``) to pick from; a client that cannot be read is said next to the field."""
    client = None
    if values.get("client_id"):
        try:
            client = await viewer.services.get("contracts", f"/api/clients/{values['client_id']}")
        except ServiceError as exc:
            if exc.status not in (403, 404, 422):
                raise
            errors.setdefault("client_id", "Такого клиента нет: найдите его по названию или ИНН.")
            values["client_id"] = ""
    search = values.get("q", "").strip()
    found: list[dict[str, Any]] = []
    if client is None and search:
        found = await viewer.services.get("contracts", "/api/clients", q=search, limit=20)
    return client, found, bool(search)


async def _form(
    request: Request,
    viewer: Viewer,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    status: int = 200,
) -> Response:
    client, found, searched = await pick_client(viewer, values, errors)
    return render(
        request,
        "desks/requests/form.html",
        {
            "values": values,
            "errors": errors,
            "client": client,
            "found": found,
            "searched": searched,
            "kinds": KINDS,
            "channels": CHANNELS,
        },
        status=status,
    )


@router.get("/new")
async def new_request(
    request: Request,
    viewer: RegistrarViewer,
    client_id: Annotated[str, Query(max_length=40)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    cid = uuid_or_blank(client_id)
    return await _form(request, viewer, {"client_id": cid, "q": q, "channel": "call"}, {})


@router.post("/new")
async def register(request: Request, viewer: CheckedViewer) -> Response:
    if not viewer.has_role(*REGISTRARS):
        raise PageForbidden(
            "Обращения регистрируют менеджеры, расчёты, диспетчеры, юрист и руководитель."
        )
    form = await request.form()
    values = {k: form_str(form, k) for k in (*FIELDS, "idempotency_key")}
    body = {k: (values[k] or None) for k in FIELDS}
    try:
        created = await viewer.services.post(
            "notifications", "/api/requests", json=body, headers=form_key(form)
        )
    except ServiceError as exc:
        errors = exc.form_errors(refusals=(403, 422))
        return await _form(request, viewer, values, errors, status=exc.status)
    return redirect(f"/requests/{created['id']}?flash=registered", request)


async def _record(
    request: Request,
    viewer: Viewer,
    request_id: uuid.UUID,
    *,
    answer: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    row = await viewer.services.get("notifications", f"/api/requests/{request_id}")
    parts = await panels(
        client=viewer.services.get("contracts", f"/api/clients/{row['client_id']}")
    )
    return render(
        request,
        "desks/requests/record.html",
        {
            "r": row,
            "p": parts,
            "may_answer": may_answer(viewer, row),
            "answer": answer,
            "errors": errors or {},
            "flash": FLASH.get(request.query_params.get("flash", "")),
        },
        status=status,
    )


@router.get("/{request_id}")
async def record(request_id: uuid.UUID, request: Request, viewer: CurrentViewer) -> Response:
    return await _record(request, viewer, request_id)


@router.post("/{request_id}/answer")
async def answer(request_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    form = await request.form()
    text = form_str(form, "answer")
    try:
        await viewer.services.post(
            "notifications", f"/api/requests/{request_id}/answer", json={"answer": text or None}
        )
    except ServiceError as exc:
        errors = exc.form_errors("answer", refusals=(403, 409, 422))
        return await _record(
            request, viewer, request_id, answer=text, errors=errors, status=exc.status
        )
    return redirect(f"/requests/{request_id}?flash=answered", request)
