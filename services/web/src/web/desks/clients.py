"""The client card: one view across every function (contracts, billing, tasks, timeline)."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.desks.contracts import FLASH
from web.desks.requests import REGISTRARS
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
    today,
    viewer_with_roles,
)
from web.field_ops import card_services
from web.formatting import CHANNEL

router = APIRouter(prefix="/clients", include_in_schema=False)

UNPAID = frozenset({"issued", "overdue", "partially_paid", "unpaid", "open"})
EDIT_ROLES = ("manager", "head", "lawyer", "sales")  # who may change a client's details
EditViewer = Annotated[Viewer, Depends(viewer_with_roles(*EDIT_ROLES))]
ContactViewer = Annotated[Viewer, Depends(viewer_with_roles("manager", "head"))]
CONTACT_ROLES = ("manager", "head")  # who records a call, letter or meeting (contracts' rule)
CARD_FLASH = {**FLASH, "details": "Реквизиты клиента сохранены.", "contact": "Контакт записан.",
              "unchanged": "Изменений нет — ничего не сохранено."}


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def balance(invoices: list[dict[str, Any]]) -> dict[str, Any]:
    """What the client owes: the outstanding part of every unpaid invoice."""
    unpaid = [i for i in invoices if str(i.get("status")) in UNPAID]
    owed = sum((_amount(i.get("outstanding", i.get("total"))) for i in unpaid), Decimal(0))
    return {"unpaid": unpaid, "owed": owed}


@router.get("/{client_id}")
async def client_card(client_id: uuid.UUID, request: Request, viewer: CurrentViewer) -> Response:
    cid = str(client_id)
    services = await card_services(request, viewer, cid)  # a technician: via their orders
    # the client itself decides access: another manager's client is a 403 page from here
    client = await services.get("contracts", f"/api/clients/{cid}")
    parts = await panels(
        sites=services.get("contracts", f"/api/clients/{cid}/sites"),
        contracts=services.get("contracts", "/api/contracts", client_id=cid, limit=200),
        subscriptions=services.get("billing", "/api/subscriptions", client_id=cid, limit=200),
        invoices=services.get("billing", "/api/invoices", client_id=cid, limit=200),
        tasks=services.get("notifications", "/api/tasks", client_id=cid, state="open",
                           limit=200),
    )
    parts["claims"] = await panel(
        services.get("contracts", "/api/claims", client_id=cid, limit=100))
    parts["requests"] = await panel(
        services.get("notifications", "/api/requests", client_id=cid, limit=50))
    scans = await panels(**{
        str(c["id"]): services.get("contracts", f"/api/contracts/{c['id']}/scans")
        for c in (parts["contracts"].data or [])})
    parts["interactions"] = await panel(
        services.get("contracts", f"/api/clients/{cid}/interactions"), empty=[])
    parts["balance"] = await panel(
        services.get("billing", f"/api/clients/{cid}/balance"), empty={})
    parts["timeline"] = await panel(  # the newest page; older ones by the cursor
        services.get_keyset("notifications", f"/api/clients/{cid}/timeline",
                            limit=TIMELINE_PAGE, order="desc"), empty=[])
    contract_numbers = {c["id"]: c["number"] for c in (parts["contracts"].data or [])}
    money = balance(parts["invoices"].data or []) if parts["invoices"].ok else None
    return render(request, "desks/clients/card.html", {
        "client": client, "p": parts, "balance": money, "scans": scans,
        "contract_numbers": contract_numbers,
        "may_sign": viewer.has_role("manager", "head", "lawyer", "sales"),
        "may_pay": viewer.has_role("billing", "accountant", "head"),
        "may_edit": viewer.has_role(*EDIT_ROLES),
        "may_log_contact": viewer.has_role(*CONTACT_ROLES),
        "may_deal": viewer.has_role("sales", "manager", "head"),
        "may_register": viewer.has_role(*REGISTRARS),
        "flash": CARD_FLASH.get(request.query_params.get("flash", "")),
        "timeline_more": _older_url(cid, parts["timeline"].extra.get("next_cursor"))})


TIMELINE_PAGE = 50  # the card's history: the newest entries, the rest a page at a time


def _older_url(cid: str, cursor: str | None) -> str | None:
    return f"/clients/{cid}/history?{urlencode({'after': cursor})}" if cursor else None


@router.get("/{client_id}/history")
async def client_history(client_id: uuid.UUID, request: Request, viewer: CurrentViewer,
                         after: Annotated[str | None, Query(max_length=1000)] = None
                         ) -> Response:
    """The client's history, newest first, a page at a time (the card shows the first)."""
    cid = str(client_id)
    services = await card_services(request, viewer, cid)
    client = await services.get("contracts", f"/api/clients/{cid}")  # its access rule
    page = await panel(services.get_keyset(
        "notifications", f"/api/clients/{cid}/timeline", limit=TIMELINE_PAGE, order="desc",
        after=after), empty=[])
    if page.status == 422:  # a cursor from an old link: start from the newest again
        return redirect(f"/clients/{cid}/history", request)
    return render(request, "desks/clients/history.html", {
        "client": client, "timeline": page, "paged": bool(after),
        "older_url": _older_url(cid, page.extra.get("next_cursor"))})


# --- editing the client's details ----------------------------------------------------------

SIMPLE = ("name", "email", "kpp", "phone", "ogrn", "legal_address", "postal_address")
SIGNATORY = ("position", "full_name", "basis")
BANK = ("bank_name", "bik", "account", "corr_account")
EDIT_FIELDS = (*SIMPLE, *(f"signatory.{k}" for k in SIGNATORY), "signatory.female",
               *(f"bank.{k}" for k in BANK))


def client_values(client: dict[str, Any]) -> dict[str, str]:
    """The client's card as the edit form's flat fields."""
    values = {k: str(client.get(k) or "") for k in SIMPLE}
    signatory = client.get("signatory") or {}
    bank = client.get("bank") or {}
    values.update({f"signatory.{k}": str(signatory.get(k) or "") for k in SIGNATORY})
    values["signatory.female"] = "on" if signatory.get("female") else ""
    values.update({f"bank.{k}": str(bank.get(k) or "") for k in BANK})
    return values


def client_changes(client: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """What the form changed, as contracts' PATCH body: a cleared optional field is null;
    the name and e-mail are sent as typed (blank ones come back as the API's 422); the
    signatory and the bank details go whole or not at all."""
    changes: dict[str, Any] = {}
    for key in SIMPLE:
        new, old = values.get(key, ""), client.get(key) or ""
        if new != old:
            changes[key] = new if key in ("name", "email") else (new or None)
    old_signatory: dict[str, Any] | None = client.get("signatory") or None
    signatory = _signatory(values, old_signatory)
    kept = None if old_signatory is None else {k: old_signatory.get(k) for k in SIGNATORY_KEYS}
    if signatory != kept:
        changes["signatory"] = signatory
    old_bank = client.get("bank") or None
    bank = {k: values.get(f"bank.{k}", "") for k in BANK}
    new_bank = {k: v for k, v in bank.items() if v} or None
    if new_bank != (old_bank and {k: old_bank.get(k) for k in BANK}):
        changes["bank"] = new_bank
    return changes


SIGNATORY_KEYS = ("position", "full_name", "basis", "female", "in_person_of")


def _signatory(values: dict[str, str], old: dict[str, Any] | None) -> dict[str, Any] | None:
    if not (values.get("signatory.position") or values.get("signatory.full_name")):
        return None
    full_name = values.get("signatory.full_name", "")
    same_person = old is not None and old.get("full_name") == full_name
    return {"position": values.get("signatory.position", ""), "full_name": full_name,
            "basis": values.get("signatory.basis") or "Устава",
            "female": values.get("signatory.female") == "on",
            # "в лице …" was written for the old signatory's name
            "in_person_of": old.get("in_person_of") if same_person and old else None}


def _edit_form(request: Request, client: dict[str, Any], values: dict[str, str],
               errors: dict[str, str], status: int = 200) -> Response:
    return render(request, "desks/clients/edit.html", {
        "client": client, "values": values, "errors": errors}, status=status)


@router.get("/{client_id}/edit")
async def edit_client(client_id: uuid.UUID, request: Request, viewer: EditViewer) -> Response:
    client = await viewer.services.get("contracts", f"/api/clients/{client_id}")
    return _edit_form(request, client, client_values(client), {})


@router.post("/{client_id}/edit")
async def save_client(client_id: uuid.UUID, request: Request, viewer: CheckedViewer
                      ) -> Response:
    if not viewer.has_role(*EDIT_ROLES):
        raise PageForbidden("Реквизиты клиента меняют менеджер, руководитель и юрист.")
    client = await viewer.services.get("contracts", f"/api/clients/{client_id}")
    form = await request.form()
    values = {k: form_str(form, k) for k in EDIT_FIELDS}
    values["signatory.female"] = "on" if form.get("signatory.female") == "on" else ""
    changes = client_changes(client, values)
    if not changes:
        return redirect(f"/clients/{client_id}?flash=unchanged", request)
    try:
        await viewer.services.patch("contracts", f"/api/clients/{client_id}", json=changes)
    except ServiceError as exc:
        return _edit_form(request, client, values,
                          exc.form_errors(),
                          status=exc.status)
    return redirect(f"/clients/{client_id}?flash=details", request)


# --- the contact log (calls, letters, meetings) ------------------------------------------------

CONTACT_FIELDS = ("channel", "on", "summary", "contact_name")


def _contact_form(request: Request, client: dict[str, Any], values: dict[str, str],
                  errors: dict[str, str], status: int = 200) -> Response:
    return render(request, "desks/clients/interaction.html", {
        "client": client, "values": values, "errors": errors, "channels": CHANNEL},
        status=status)


@router.get("/{client_id}/interactions/new")
async def new_interaction(client_id: uuid.UUID, request: Request, viewer: ContactViewer
                          ) -> Response:
    client = await viewer.services.get("contracts", f"/api/clients/{client_id}")
    return _contact_form(request, client, {"channel": "call", "on": today().isoformat()}, {})


@router.post("/{client_id}/interactions/new")
async def record_interaction(client_id: uuid.UUID, request: Request, viewer: CheckedViewer
                             ) -> Response:
    if not viewer.has_role(*CONTACT_ROLES):
        raise PageForbidden("Контакты с клиентом записывают его менеджер и руководитель.")
    client = await viewer.services.get("contracts", f"/api/clients/{client_id}")
    form = await request.form()
    values = {k: form_str(form, k) for k in CONTACT_FIELDS}
    errors = {k: "Обязательное поле." for k in ("channel", "on", "summary") if not values[k]}
    if errors:
        return _contact_form(request, client, values, errors, status=422)
    try:
        await viewer.services.post("contracts", f"/api/clients/{client_id}/interactions",
                                   json={k: v for k, v in values.items() if v})
    except ServiceError as exc:
        return _contact_form(request, client, values,
                             exc.form_errors(), status=exc.status)
    return redirect(f"/clients/{client_id}?flash=contact#interactions", request)
