"""Contracts desk: clients and search, new client / site / contract forms (the API's 422
messages shown at their fields), signing, the head's approvals queue, expiring contracts."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.adapters.spreadsheets import people_by_name
from web.desks.admin import not_an_owner, owners
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
from web.formatting import CONTRACT_KIND

router = APIRouter(prefix="/contracts", include_in_schema=False)
DESK_ROLES = ("manager", "head", "lawyer", "sales")
DeskViewer = Annotated[Viewer, Depends(viewer_with_roles(*DESK_ROLES))]
HeadViewer = Annotated[Viewer, Depends(viewer_with_roles("head"))]
PAGE = 50

FLASH = {
    "signed": "Договор подписан.",
    "submitted": "Договор отправлен руководителю на согласование.",
    "approved": "Договор согласован.",
    "rejected": "Договор отклонён.",
    "site": "Объект добавлен.",
    "site_saved": "Объект сохранён.",
    "contract": "Договор создан.",
    "scan": "Скан загружен.",
}


def _require_desk(viewer: Viewer, *roles: str) -> None:
    if not viewer.has_role(*(roles or DESK_ROLES)):
        raise PageForbidden("Действие доступно ролям договорного отдела.")


_MONEY_NOISE = re.compile(r"[\s\u00a0\u202f']|₽|руб\.?|р\.", re.IGNORECASE)


def money_input(text: str) -> str:
    """An amount as a person types it -> ``12500.50`` for the API.

    Spaces, ``₽``/``руб.`` and apostrophes go; the last ``,`` or ``.`` followed by one or two
    digits is the decimal mark and any other ``.``/``,`` groups thousands: ``12 500,50 ₽``,
    ``12.500,00``, ``12,500.00`` and ``12500`` all read as they are meant. Anything else is
    passed on for the service to refuse at the field.
    """
    clean = _MONEY_NOISE.sub("", text)
    decimal = re.fullmatch(r"([\d.,]*?)[.,](\d{1,2})", clean)
    whole, cents = (decimal.group(1), decimal.group(2)) if decimal else (clean, "")
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+|\d*", whole):
        whole = whole.replace(".", "").replace(",", "")
        return f"{whole or '0'}.{cents}" if cents else whole
    return clean.replace(",", ".")


def _opt(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in ("", None)}


# --- clients -------------------------------------------------------------------------------


@router.get("")
async def desk(request: Request, viewer: DeskViewer, q: str = "",
               offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    clients = await panel(viewer.services.get_page("contracts", "/api/clients", q=q or None,
                                                   limit=PAGE, offset=offset))
    return render(request, "desks/contracts/desk.html", {
        "clients": clients, "q": q, "offset": offset, "page": PAGE})


async def _client_form(request: Request, values: dict[str, str], errors: dict[str, str],
                       status: int = 200) -> Response:
    return render(request, "desks/contracts/client_form.html",
                  {"values": values, "errors": errors, "owners": await owners(request)},
                  status=status)


CLIENT_FIELDS = ("name", "inn", "kpp", "email", "phone", "legal_address", "manager",
                 "signatory.position", "signatory.full_name")


def client_body(values: dict[str, str]) -> dict[str, Any]:
    """The form's flat fields as the API's client: the signatory is a nested object."""
    body = _opt({k: v for k, v in values.items() if not k.startswith("signatory.")})
    position, full_name = values.get("signatory.position"), values.get("signatory.full_name")
    if position or full_name:
        body["signatory"] = {"position": position or "", "full_name": full_name or ""}
    return body


@router.get("/clients/new")
async def new_client(request: Request, viewer: DeskViewer) -> Response:
    return await _client_form(request, {"manager": viewer.username}, {})


@router.post("/clients/new")
async def create_client(request: Request, viewer: CheckedViewer) -> Response:
    _require_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in CLIENT_FIELDS}
    if not viewer.has_role("head"):
        values["manager"] = viewer.username  # a manager registers clients for themselves
    elif values["manager"] and (problem := await not_an_owner(request, values["manager"])):
        return await _client_form(request, values, {"manager": problem}, status=422)
    try:
        client = await viewer.services.post("contracts", "/api/clients",
                                            json=client_body(values))
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors = exc.field_errors() or {"": exc.message}
            if exc.status == 409:
                errors = {"inn": exc.message}
            return await _client_form(request, values, errors, status=exc.status)
        raise
    return redirect(f"/clients/{client['id']}", request)


# --- sites ---------------------------------------------------------------------------------


SITE_FIELDS = ("name", "address", "access_points", "equipment_summary", "contact_name",
               "contact_phone")


async def _site_form(request: Request, viewer: Viewer, client_id: uuid.UUID,
                     values: dict[str, str], errors: dict[str, str],
                     status: int = 200, site_id: uuid.UUID | None = None) -> Response:
    client = await viewer.services.get("contracts", f"/api/clients/{client_id}")
    return render(request, "desks/contracts/site_form.html",
                  {"client": client, "values": values, "errors": errors, "site_id": site_id},
                  status=status)


@router.get("/clients/{client_id}/sites/new")
async def new_site(client_id: uuid.UUID, request: Request, viewer: DeskViewer) -> Response:
    return await _site_form(request, viewer, client_id, {"access_points": "1"}, {})


@router.post("/clients/{client_id}/sites/new")
async def create_site(client_id: uuid.UUID, request: Request, viewer: CheckedViewer
                      ) -> Response:
    _require_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in SITE_FIELDS}
    try:
        await viewer.services.post("contracts", f"/api/clients/{client_id}/sites",
                                   json=_opt(values))
    except ServiceError as exc:
        return await _site_form(request, viewer, client_id, values,
                                exc.form_errors(refusals=(422,)), status=422)
    return redirect(f"/clients/{client_id}?flash=site", request)


async def _site_of(viewer: Viewer, client_id: uuid.UUID, site_id: uuid.UUID
                   ) -> dict[str, Any]:
    sites = await viewer.services.get("contracts", f"/api/clients/{client_id}/sites")
    for site in sites:
        if str(site["id"]) == str(site_id):
            return dict(site)
    raise PageNotFound("У клиента нет такого объекта.")


@router.get("/clients/{client_id}/sites/{site_id}")
async def edit_site(client_id: uuid.UUID, site_id: uuid.UUID, request: Request,
                    viewer: DeskViewer) -> Response:
    """A site's address, access points and contact: what its contract's documents print."""
    site = await _site_of(viewer, client_id, site_id)
    values = {k: "" if site.get(k) is None else str(site[k]) for k in SITE_FIELDS}
    return await _site_form(request, viewer, client_id, values, {}, site_id=site_id)


@router.post("/clients/{client_id}/sites/{site_id}")
async def save_site(client_id: uuid.UUID, site_id: uuid.UUID, request: Request,
                    viewer: CheckedViewer) -> Response:
    _require_desk(viewer)
    site = await _site_of(viewer, client_id, site_id)
    form = await request.form()
    values = {k: form_str(form, k) for k in SITE_FIELDS}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        old = "" if site.get(key) is None else str(site[key])
        if value != old:  # a cleared optional field is erased; a required one is the 422
            changes[key] = value if value or key in ("name", "address") else None
    if changes:
        try:
            await viewer.services.patch("contracts", f"/api/sites/{site_id}", json=changes)
        except ServiceError as exc:
            return await _site_form(request, viewer, client_id, values,
                                    exc.form_errors(refusals=(422,)), status=422,
                                    site_id=site_id)
    return redirect(f"/clients/{client_id}?flash=site_saved", request)


# --- contracts -----------------------------------------------------------------------------


CONTRACT_FIELDS = ("kind", "starts_on", "ends_on", "monthly_fee", "site_id", "payment_form")


async def _contract_form(request: Request, viewer: Viewer, client_id: uuid.UUID,
                         values: dict[str, Any], errors: dict[str, str],
                         status: int = 200) -> Response:
    client = await viewer.services.get("contracts", f"/api/clients/{client_id}")
    sites = await panel(viewer.services.get("contracts", f"/api/clients/{client_id}/sites"))
    return render(request, "desks/contracts/contract_form.html", {
        "client": client, "sites": sites, "values": values, "errors": errors,
        "kinds": CONTRACT_KIND}, status=status)


@router.get("/new")
async def new_contract(request: Request, viewer: DeskViewer, client_id: uuid.UUID) -> Response:
    values = {"kind": "subscription", "starts_on": "", "standard": True, "auto_renew": True}
    return await _contract_form(request, viewer, client_id, values, {})


@router.post("/new")
async def create_contract(request: Request, viewer: CheckedViewer) -> Response:
    _require_desk(viewer)
    form = await request.form()
    try:
        client_id = uuid.UUID(form_str(form, "client_id"))
    except ValueError:
        raise PageNotFound("Не указан клиент.") from None
    values: dict[str, Any] = {k: form_str(form, k) for k in CONTRACT_FIELDS}
    values["standard"] = form.get("standard") == "on"
    values["auto_renew"] = form.get("auto_renew") == "on"
    body = _opt({**values, "monthly_fee": money_input(values["monthly_fee"])})
    body.update(client_id=str(client_id), standard=values["standard"],
                auto_renew=values["auto_renew"])
    try:
        await viewer.services.post("contracts", "/api/contracts", json=body)
    except ServiceError as exc:
        return await _contract_form(request, viewer, client_id, values,
                                    exc.form_errors(),
                                    status=exc.status)
    return redirect(f"/clients/{client_id}?flash=contract", request)


async def _contract_action(request: Request, viewer: Viewer, contract_id: uuid.UUID,
                           action: str, body: dict[str, Any], flash: str) -> Response:
    form = await request.form()
    back = form_str(form, "back")
    client_id = form_str(form, "client_id")
    try:
        result = await viewer.services.post("contracts", f"/api/contracts/{contract_id}/{action}",
                                            json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            return render(request, "desks/contracts/action_failed.html", {
                "error": exc, "client_id": client_id, "back": back}, status=exc.status)
        raise
    target = back if back.startswith("/") and not back.startswith("//") else (
        f"/clients/{client_id or result.get('client_id', '')}")
    sep = "&" if "?" in target else "?"
    return redirect(f"{target}{sep}flash={flash}", request)


@router.post("/{contract_id}/sign")
async def sign(contract_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    _require_desk(viewer)
    form = await request.form()
    return await _contract_action(request, viewer, contract_id, "sign",
                                  {"signed_on": form_str(form, "signed_on")}, "signed")


@router.post("/{contract_id}/submit")
async def submit(contract_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    _require_desk(viewer)
    return await _contract_action(request, viewer, contract_id, "submit", {}, "submitted")


@router.post("/{contract_id}/approve")
async def approve(contract_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    _require_desk(viewer, "head")
    form = await request.form()
    return await _contract_action(request, viewer, contract_id, "approve",
                                  _opt({"reason": form_str(form, "reason")}), "approved")


@router.post("/{contract_id}/reject")
async def reject(contract_id: uuid.UUID, request: Request, viewer: CheckedViewer) -> Response:
    _require_desk(viewer, "head")
    form = await request.form()
    return await _contract_action(request, viewer, contract_id, "reject",
                                  _opt({"reason": form_str(form, "reason")}), "rejected")


@router.get("/approvals")
async def approvals(request: Request, viewer: HeadViewer) -> Response:
    pending = await panel(viewer.services.get("contracts", "/api/contracts",
                                              status="pending_approval", limit=200))
    names: dict[str, str] = {}
    if pending.ok:
        for contract in pending.data:
            cid = str(contract["client_id"])
            if cid not in names:
                client = await panel(viewer.services.get("contracts", f"/api/clients/{cid}"))
                names[cid] = client.data["name"] if client.ok else cid
    return render(request, "desks/contracts/approvals.html", {
        "pending": pending, "names": names, "flash": FLASH.get(
            request.query_params.get("flash", ""))})


WINDOWS = (60, 30, 7)


@router.get("/expiring")
async def expiring(request: Request, viewer: DeskViewer,
                   within_days: Annotated[int, Query(ge=1, le=365)] = 60) -> Response:
    rows = await panel(viewer.services.get("contracts", "/api/contracts/expiring",
                                           within_days=within_days))
    return render(request, "desks/contracts/expiring.html", {
        "rows": rows, "within_days": within_days, "windows": WINDOWS})


@router.get("/expiring.xlsx")
async def expiring_xlsx(viewer: DeskViewer,
                        within_days: Annotated[int, Query(ge=1, le=365)] = 60) -> Response:
    upstream = await viewer.services.document(
        "contracts", "/api/contracts/expiring", within_days=within_days, format="xlsx")
    media = upstream.headers.get("content-type", "")
    if "spreadsheetml" not in media:
        raise PageNotFound("Сервис договоров пока не выгружает этот список в XLSX.")
    content = await people_by_name(upstream.content, viewer.people)
    return Response(content, media_type=media, headers={
        "Content-Disposition": upstream.headers.get(
            "content-disposition", f'attachment; filename="expiring-{within_days}.xlsx"')})


# --- documents -----------------------------------------------------------------------------


def _download(upstream: Any, fallback: str) -> Response:
    return Response(upstream.content, media_type=upstream.headers.get("content-type"),
                    headers={"Content-Disposition": upstream.headers.get(
                        "content-disposition", f'attachment; filename="{fallback}"'),
                        "X-Content-Type-Options": "nosniff"})


# what a document needs that the client's card or the contract lacks: what to fill, where
PREREQUISITES: tuple[tuple[str, str, str], ...] = (
    # (field prefix as contracts names it, what to fill in, the form that fills it)
    ("client.legal_address", "юридический адрес клиента", "/clients/{client}/edit"),
    ("client.signatory", "подписанта клиента: должность и ФИО (в лице кого подписывает)",
     "/clients/{client}/edit"),
    ("client.bank", "банковские реквизиты клиента: банк, БИК, расчётный и корр. счёт",
     "/clients/{client}/edit"),
    ("client.kpp", "КПП клиента", "/clients/{client}/edit"),
    ("client.ogrn", "ОГРН клиента", "/clients/{client}/edit"),
    ("client.", "реквизиты клиента", "/clients/{client}/edit"),
    ("site_id", "объект договора (адрес и точки проезда): добавьте объект клиенту и "
     "перезаключите договор с ним", "/contracts/clients/{client}/sites/new"),
    ("contract.access_points", "число точек проезда на объекте договора (не меньше 1)",
     "/contracts/clients/{client}/sites/{site}"),
    ("contract.site_address", "адрес объекта договора", "/contracts/clients/{client}/sites/{site}"),
    ("contract.", "условия договора", "/contracts/{contract}"),
    ("amendment.", "условия дополнительного соглашения", "/contracts/{contract}"),
)


# a rule over the whole client card names the part it lacks only in its message
_MESSAGE_FIELDS = (("KPP", "client.kpp"), ("OGRN", "client.ogrn"), ("bank", "client.bank"),
                   ("signatory", "client.signatory"), ("address", "client.legal_address"))


def _named_field(name: str, message: str) -> str:
    if name in ("client", "document", "document.client"):
        for word, field in _MESSAGE_FIELDS:
            if word.lower() in message.lower():
                return field
        return "client."
    return name.removeprefix("document.")


def what_is_missing(exc: ServiceError, client_id: str, contract_id: str, site_id: str = ""
                    ) -> list[dict[str, str]]:
    """The 422 of a document that cannot be printed as (what to fill in, link) lines."""
    out: list[dict[str, str]] = []
    for error in exc.errors or [{"field": "", "message": exc.detail}]:
        name = _named_field(error.get("field", ""), error.get("message", ""))
        for prefix, what, link in PREREQUISITES:
            if name == prefix or name.startswith(prefix if prefix.endswith(".")
                                                 else prefix + "."):
                item = {"what": what, "href": link.format(
                    client=client_id, contract=contract_id, site=site_id)}
                break
        else:
            item = {"what": "Такой документ для этого договора не печатается."
                    if name == "kind" else "данные договора или клиента", "href": ""}
        if item not in out:
            out.append(item)
    return out


async def document_or_what_is_missing(request: Request, viewer: Viewer,
                                      contract_id: uuid.UUID, path: str, fmt: str,
                                      fallback: str) -> Response:
    """The document from contracts, or a page saying in Russian what to fill in first."""
    try:
        upstream = await viewer.services.document("contracts", path, format=fmt)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        contract = await viewer.services.get("contracts", f"/api/contracts/{contract_id}")
        client_id = str(contract["client_id"])
        return render(request, "desks/contracts/document_missing.html", {
            "missing": what_is_missing(exc, client_id, str(contract_id),
                                       str(contract.get("site_id") or "")),
            "contract": contract, "client_id": client_id}, status=422)
    return _download(upstream, fallback)


@router.get("/{contract_id}/documents/{template}.{fmt}")
async def contract_document(contract_id: uuid.UUID, template: str, fmt: str,
                            request: Request, viewer: DeskViewer) -> Response:
    """The contract or its price protocol as contracts renders it (DOCX or PDF)."""
    if template not in ("contract", "price_protocol") or fmt not in ("docx", "pdf"):
        raise PageNotFound("Такого документа нет.")
    return await document_or_what_is_missing(
        request, viewer, contract_id, f"/api/contracts/{contract_id}/documents/{template}",
        fmt, f"{template}.{fmt}")


@router.get("/documents/{document_id}")
async def stored_document(document_id: uuid.UUID, viewer: DeskViewer) -> Response:
    upstream = await viewer.services.document("contracts", f"/api/documents/{document_id}")
    return _download(upstream, "document")


@router.post("/{contract_id}/scans")
async def upload_scan(contract_id: uuid.UUID, request: Request, viewer: CheckedViewer
                      ) -> Response:
    _require_desk(viewer, "manager", "head")
    form = await request.form()
    client_id = form_str(form, "client_id")
    upload = form.get("scan")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return render(request, "desks/contracts/action_failed.html", {
            "error": ServiceError("contracts", 422, "Выберите файл скана (PDF или JPEG)."),
            "client_id": client_id, "back": ""}, status=422)
    content = await upload.read()
    try:
        await viewer.services.post(
            "contracts", f"/api/contracts/{contract_id}/scans",
            files={"file": (upload.filename, content,
                            upload.content_type or "application/octet-stream")})
    except ServiceError as exc:
        if exc.status in (409, 413, 415, 422):
            return render(request, "desks/contracts/action_failed.html", {
                "error": exc, "client_id": client_id, "back": ""}, status=exc.status)
        raise
    return redirect(f"/clients/{client_id}?flash=scan", request)
