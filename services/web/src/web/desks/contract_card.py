"""The contract page and what happens to a signed contract (seed 000 §1, 15, 19; 004 §3):
its amendments (fee change, extension, suspension, termination, resume) with their
documents, the client's change requests and the head's decision on them, re-signing, and a
pilot's outcome (ended, or converted to a paid contract).

Every form is one ``Action``: its fields, the API call it makes and what the page says after.
The API's 422 comes back as the form with the Russian message next to the field; a refusal
(409) as the form with the message on top. Forms carry an Idempotency-Key, so a form sent
again after Back records nothing twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.desks.contracts import document_or_what_is_missing, money_input
from web.entrypoints.pages.framework import (
    CheckedViewer,
    PageForbidden,
    PageNotFound,
    Viewer,
    form_str,
    panel,
    panels,
    redirect,
    render,
    today,
    viewer_with_roles,
)
from web.formatting import CHANGE_REQUEST_KIND, CHANGE_REQUEST_STATE, PILOT_OUTCOME

router = APIRouter(prefix="/contracts", include_in_schema=False)
READ_ROLES = ("manager", "head", "lawyer", "sales")
AMEND_ROLES = ("manager", "head")  # the contracts API lets these change a contract
ReadViewer = Annotated[Viewer, Depends(viewer_with_roles(*READ_ROLES))]
AmendViewer = Annotated[Viewer, Depends(viewer_with_roles(*AMEND_ROLES))]
HeadViewer = Annotated[Viewer, Depends(viewer_with_roles("head"))]
IN_FORCE = ("signed", "active", "suspended")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str = "date"  # date | money | text | textarea | select | check
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    hint: str = ""


@dataclass(frozen=True)
class Action:
    title: str
    api: str  # the contracts API path after /api/contracts/{id}/
    fields: tuple[Field, ...]
    flash: str
    button: str
    allowed: tuple[str, ...] = IN_FORCE  # contract statuses the action is offered in
    pilot_only: bool = False
    creates_contract: bool = False  # the answer is the new contract (re-signing, converting)


REASON = Field("reason", "Причина / основание", "textarea")
SIGNED_ON = Field("signed_on", "Дата подписания соглашения", hint="пусто — сегодня")
PAID_KINDS = (
    ("subscription", "абонентский"),
    ("maintenance", "обслуживание"),
    ("rent", "аренда"),
    ("supply", "поставка"),
)

ACTIONS: dict[str, Action] = {
    "fee-change": Action(
        "Изменение абонентской платы",
        "fee-change",
        (
            Field("new_fee", "Новая плата в месяц, ₽", "money", True),
            Field("notice_on", "Дата уведомления клиента", hint="пусто — сегодня"),
            Field(
                "effective_on",
                "Действует с",
                hint="пусто — первый день, который допускает срок уведомления",
            ),
            SIGNED_ON,
            REASON,
        ),
        "Изменение абонентской платы записано.",
        "Записать изменение платы",
    ),
    "extension": Action(
        "Продление договора",
        "extension",
        (
            Field("new_ends_on", "Новая дата окончания", required=True),
            Field("effective_on", "Действует с", hint="пусто — со дня после окончания"),
            Field("new_fee", "Новая плата в месяц, ₽", "money", hint="пусто — плата не меняется"),
            SIGNED_ON,
            REASON,
        ),
        "Договор продлён.",
        "Продлить договор",
    ),
    "suspend": Action(
        "Приостановка договора",
        "suspend",
        (
            Field("effective_on", "Приостановить с", required=True),
            Field("resume_on", "Возобновить с", hint="пусто — до отдельного решения"),
            REASON,
        ),
        "Приостановка договора записана.",
        "Приостановить",
        allowed=("active",),
    ),
    "terminate": Action(
        "Расторжение договора",
        "terminate",
        (Field("effective_on", "Первый день без обслуживания", required=True), REASON, SIGNED_ON),
        "Расторжение договора записано.",
        "Расторгнуть договор",
    ),
    "resume": Action(
        "Возобновление договора",
        "resume",
        (Field("effective_on", "Возобновить с", required=True),),
        "Договор возобновлён.",
        "Возобновить",
        allowed=("suspended",),
    ),
    "resign": Action(
        "Перезаключение договора",
        "resign",
        (
            Field("starts_on", "Начало нового договора", required=True),
            Field("ends_on", "Окончание нового договора"),
            Field("monthly_fee", "Плата в месяц, ₽", "money", hint="пусто — как в старом договоре"),
        ),
        "Новый договор создан; старый закончится, когда новый подпишут.",
        "Создать новый договор",
        allowed=(*IN_FORCE, "expired"),
        creates_contract=True,
    ),
    "pilot-end": Action(
        "Итог пилота",
        "pilot/end",
        (
            Field("ended_on", "Пилот закончился", required=True),
            Field(
                "outcome",
                "Итог",
                "select",
                choices=(
                    ("", "ещё не известен"),
                    ("success", PILOT_OUTCOME["success"]),
                    ("declined", PILOT_OUTCOME["declined"]),
                ),
            ),
            Field("note", "Комментарий", "textarea"),
        ),
        "Итог пилота записан.",
        "Записать итог",
        allowed=(*IN_FORCE, "ended", "expired"),
        pilot_only=True,
    ),
    "pilot-convert": Action(
        "Перевод пилота в платный договор",
        "pilot/convert",
        (
            Field("kind", "Вид платного договора", "select", choices=PAID_KINDS),
            Field("starts_on", "Начало платного договора", required=True),
            Field("ends_on", "Окончание"),
            Field("monthly_fee", "Плата в месяц, ₽", "money", True),
            Field("signed_on", "Подписан", hint="пусто — подписать позже на карточке"),
        ),
        "Платный договор создан вместо пилота.",
        "Перевести в платный договор",
        allowed=(*IN_FORCE, "ended", "expired"),
        pilot_only=True,
        creates_contract=True,
    ),
    "change-request": Action(
        "Запрос клиента на изменение условий",
        "change-requests",
        (
            Field(
                "kind",
                "Что просит клиент",
                "select",
                True,
                choices=tuple(CHANGE_REQUEST_KIND.items()),
            ),
            Field("summary", "Суть запроса", "text", True),
            Field("details", "Подробности", "textarea"),
            Field("received_on", "Получен", required=True),
            Field(
                "new_fee",
                "Новая плата в месяц, ₽",
                "money",
                hint="для изменения платы или продления",
            ),
            Field("new_ends_on", "Новая дата окончания", hint="для продления"),
            Field("effective_on", "С какой даты", hint="для приостановки и расторжения"),
            Field("resume_on", "Возобновить с", hint="для приостановки"),
        ),
        "Запрос отправлен руководителю на решение.",
        "Отправить руководителю",
    ),
}


def offered(contract: dict[str, Any]) -> list[tuple[str, Action]]:
    """The actions a contract in its state takes (an extension needs an end date; a pilot
    ends, converts, is extended or terminated — its fee is not changed, it is converted)."""
    pilot = contract["kind"] == "pilot"
    out = []
    for key, action in ACTIONS.items():
        if contract["status"] not in action.allowed or (action.pilot_only and not pilot):
            continue
        if pilot and key in ("fee-change", "resign", "suspend", "resume", "change-request"):
            continue
        if key == "extension" and not contract.get("ends_on"):
            continue
        if key == "resign" and contract.get("replaced_by_id"):
            continue
        if action.pilot_only and contract.get("pilot_outcome") in ("converted", "declined"):
            continue
        out.append((key, action))
    return out


def body_of(action: Action, values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for f in action.fields:
        value = values.get(f.name, "")
        if value == "":
            continue
        body[f.name] = money_input(value) if f.type == "money" else value
    return body


# --- the head's queue of change requests (before /{contract_id}) ------------------------------


@router.get("/change-requests")
async def change_requests(
    request: Request,
    viewer: HeadViewer,
    state: Annotated[str, Query(max_length=20)] = "pending",
    flash: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    state = state if state in CHANGE_REQUEST_STATE else "pending"
    listed = await panel(
        viewer.services.get_page("contracts", "/api/change-requests", state=state, limit=200)
    )
    rows = listed.data or []
    names = await _client_names(viewer, {str(r["client_id"]) for r in rows})
    numbers = await _contract_numbers(viewer, {str(r["contract_id"]) for r in rows})
    return render(
        request,
        "desks/contracts/change_requests.html",
        {
            "listed": listed,
            "rows": rows,
            "state": state,
            "states": CHANGE_REQUEST_STATE,
            "names": names,
            "numbers": numbers,
            "errors": {},
            "flash": {"approved": "Запрос согласован.", "rejected": "Запрос отклонён."}.get(flash),
        },
    )


@router.post("/change-requests/{request_id}/decide")
async def decide(request_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    if not viewer.has_role("head"):
        raise PageForbidden("Решение по запросу на изменение принимает руководитель.")
    form = await request.form()
    approve = form_str(form, "decision") == "approve"
    reason = form_str(form, "reason")
    try:
        await viewer.services.post(
            "contracts",
            f"/api/change-requests/{request_id}/decide",
            json={"approve": approve, "reason": reason or None},
        )
    except ServiceError as exc:
        if exc.status not in (409, 422):
            raise
        errors = exc.field_errors() or {"": exc.message}
        listed = await panel(
            viewer.services.get_page(
                "contracts", "/api/change-requests", state="pending", limit=200
            )
        )
        rows = listed.data or []
        return render(
            request,
            "desks/contracts/change_requests.html",
            {
                "listed": listed,
                "rows": rows,
                "state": "pending",
                "states": CHANGE_REQUEST_STATE,
                "names": await _client_names(viewer, {str(r["client_id"]) for r in rows}),
                "numbers": await _contract_numbers(viewer, {str(r["contract_id"]) for r in rows}),
                "errors": {str(request_id): errors},
                "reason": reason,
                "flash": None,
            },
            status=exc.status,
        )
    return redirect(
        "/contracts/change-requests?flash=" + ("approved" if approve else "rejected"), request
    )


async def _client_names(viewer: Viewer, ids: set[str]) -> dict[str, str]:
    found = await panels(**{i: viewer.services.get("contracts", f"/api/clients/{i}") for i in ids})
    return {i: p.data["name"] for i, p in found.items() if p.ok}


async def _contract_numbers(viewer: Viewer, ids: set[str]) -> dict[str, str]:
    found = await panels(
        **{i: viewer.services.get("contracts", f"/api/contracts/{i}") for i in ids}
    )
    return {i: p.data["number"] for i, p in found.items() if p.ok}


# --- amendment documents --------------------------------------------------------------------


@router.get("/amendments/{amendment_id}/document.{fmt}")
async def amendment_document(
    amendment_id: uuid.UUID, fmt: str, request: Request, viewer: ReadViewer
) -> Response:
    """The supplementary agreement (or price protocol) as contracts renders it."""
    if fmt not in ("docx", "pdf"):
        raise PageNotFound("Такого документа нет.")
    amendment = await viewer.services.get("contracts", f"/api/amendments/{amendment_id}")
    return await document_or_what_is_missing(
        request,
        viewer,
        uuid.UUID(str(amendment["contract_id"])),
        f"/api/amendments/{amendment_id}/document",
        fmt,
        f"amendment.{fmt}",
    )


# --- the contract page --------------------------------------------------------------------------


FLASH = {key: action.flash for key, action in ACTIONS.items()}


@router.get("/{contract_id}")
async def contract_page(
    contract_id: uuid.UUID,
    request: Request,
    viewer: ReadViewer,
    flash: Annotated[str, Query(max_length=30)] = "",
) -> Response:
    contract = await viewer.services.get("contracts", f"/api/contracts/{contract_id}")
    cid = str(contract["client_id"])
    parts = await panels(
        client=viewer.services.get("contracts", f"/api/clients/{cid}"),
        amendments=viewer.services.get("contracts", f"/api/contracts/{contract_id}/amendments"),
        requests=viewer.services.get(
            "contracts", "/api/change-requests", contract_id=str(contract_id), limit=100
        ),
        sites=viewer.services.get("contracts", f"/api/clients/{cid}/sites"),
    )
    related = await _contract_numbers(
        viewer, {str(x) for x in (contract.get("replaces_id"), contract.get("replaced_by_id")) if x}
    )
    site = next(
        (s for s in parts["sites"].data or [] if str(s["id"]) == str(contract.get("site_id"))), None
    )
    may_amend = viewer.has_role(*AMEND_ROLES)
    return render(
        request,
        "desks/contracts/contract.html",
        {
            "contract": contract,
            "p": parts,
            "related": related,
            "site": site,
            "actions": offered(contract) if may_amend else [],
            "may_amend": may_amend,
            "flash": FLASH.get(flash),
        },
    )


async def _form(
    request: Request,
    viewer: Viewer,
    contract: dict[str, Any],
    key: str,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    client = await panel(viewer.services.get("contracts", f"/api/clients/{contract['client_id']}"))
    return render(
        request,
        "desks/contracts/action_form.html",
        {
            "contract": contract,
            "client": client.data or {},
            "key": key,
            "action": ACTIONS[key],
            "values": values,
            "errors": errors,
            "idempotency_key": values.get("idempotency_key") or str(uuid.uuid4()),
        },
        status=status,
    )


def _action(key: str) -> Action:
    if key not in ACTIONS:
        raise PageNotFound("Такого действия с договором нет.")
    return ACTIONS[key]


@router.get("/{contract_id}/do/{key}")
async def action_form(
    contract_id: uuid.UUID, key: str, request: Request, viewer: AmendViewer
) -> Response:
    action = _action(key)
    contract = await viewer.services.get("contracts", f"/api/contracts/{contract_id}")
    values: dict[str, str] = {}
    if key == "change-request":
        values["received_on"] = today().isoformat()
    if action.creates_contract:
        values["kind"] = "subscription"
    return await _form(request, viewer, contract, key, values, {})


@router.post("/{contract_id}/do/{key}")
async def do_action(
    contract_id: uuid.UUID, key: str, request: Request, viewer: CheckedViewer
) -> Response:
    action = _action(key)
    if not viewer.has_role(*AMEND_ROLES):
        raise PageForbidden("Условия договора меняют менеджер клиента и руководитель.")
    contract = await viewer.services.get("contracts", f"/api/contracts/{contract_id}")
    form = await request.form()
    values = {f.name: form_str(form, f.name) for f in action.fields}
    values["idempotency_key"] = form_str(form, "idempotency_key")
    try:
        uuid.UUID(values["idempotency_key"])
    except ValueError:
        values["idempotency_key"] = str(uuid.uuid4())
    missing = {
        f.name: "Обязательное поле." for f in action.fields if f.required and not values[f.name]
    }
    if missing:
        return await _form(request, viewer, contract, key, values, missing, status=422)
    try:
        result = await viewer.services.post(
            "contracts",
            f"/api/contracts/{contract_id}/{action.api}",
            json=body_of(action, values),
            headers={"Idempotency-Key": values["idempotency_key"]},
        )
    except ServiceError as exc:
        return await _form(
            request,
            viewer,
            contract,
            key,
            values,
            exc.form_errors(),
            status=exc.status,
        )
    target = contract_id
    if action.creates_contract and isinstance(result, dict) and result.get("id"):
        target = uuid.UUID(str(result["id"]))
    return redirect(f"/contracts/{target}?flash={key}", request)
