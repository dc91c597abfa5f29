"""Logistics desk: stock by location with reservations (receive, move, reserve), purchase
orders and their dates with suppliers' price history (supplier invoice, goods received,
remote acceptance with attachments), the shipments board (planned / in transit / delivered)
with the carrier's status and tracking number, closing documents awaiting signature, the
document-courier journal with overdue originals first, and the client card's logistics part.

Every form uses pickers (items, locations, clients, sites, carriers), never typed ids; the
logistics API's 422 is shown at its field in Russian, its 409 ("not enough stock") as one
sentence at the form.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from web.adapters.services import ServiceError
from web.desks.contracts import money_input
from web.entrypoints.pages.framework import (
    CheckedViewer,
    CurrentViewer,
    PageForbidden,
    PageNotFound,
    Panel,
    Viewer,
    form_str,
    panel,
    panels,
    redirect,
    render,
    templates,
    today,
    viewer_with_roles,
)
from web.formatting import field_message, label, money

router = APIRouter(prefix="/logistics", include_in_schema=False)
DESK_ROLES = ("logistics", "head")
DeskViewer = Annotated[Viewer, Depends(viewer_with_roles(*DESK_ROLES))]
LIMIT = 500

# --- the words the pages use ----------------------------------------------------------------
# logistics gives each row its Russian ``*_label``; these are only for when it does not

SHIPMENT_STATUS = {"planned": "запланирована", "in_transit": "в пути",
                   "delivered": "доставлена", "cancelled": "отменена"}
BOARD = (("planned", "Запланированы"), ("in_transit", "В пути"), ("delivered", "Доставлены"))
CARRIERS = {
    "dostavista": "Достависта (курьер по Москве)", "cdek": "СДЭК", "dellin": "Деловые Линии",
    "truck": "Грузовой транспорт (шлагбаумы, стрелы, турникеты)",
}
PO_STATUS = {"ordered": "заказан", "invoiced": "счёт получен", "received": "товар получен",
             "cancelled": "отменён"}
CLOSING_STATUS = {"expected": "ожидается", "sent": "отправлен клиенту",
                  "signed": "подписан клиентом", "returned": "оригинал получен"}
AWAITING = ("expected", "sent")
DELIVERY_STATUS = {
    "registered": "зарегистрирована", "handed": "передана курьеру", "delivered": "доставлена",
    "returned": "оригиналы возвращены", "archived": "передана в бухгалтерию",
}
RETURNED = ("returned", "archived")
COURIER_KIND = {"courier": "курьер", "sales": "менеджер ОП"}
MOVE_REASONS = {"transfer": "Перемещение", "to_office": "Перенос в офис", "return": "Возврат",
                "write_off": "Списание", "correction": "Корректировка"}

templates.env.filters.update({
    "shipment_status": label(SHIPMENT_STATUS), "carrier": label(CARRIERS),
    "po_status": label(PO_STATUS), "closing_status": label(CLOSING_STATUS),
    "delivery_status": label(DELIVERY_STATUS), "courier_kind": label(COURIER_KIND),
})

FLASH = {
    "received": "Поступление записано.",
    "moved": "Перемещение записано.",
    "reserved": "Резерв записан.",
    "released": "Резерв снят.",
    "shipment": "Отгрузка создана, товар зарезервирован.",
    "dates": "Даты отгрузки записаны.",
    "dispatched": "Отгрузка передана перевозчику.",
    "delivered": "Доставка отмечена.",
    "cancelled": "Отгрузка отменена, резерв снят.",
    "invoice": "Счёт поставщика записан и передан в биллинг.",
    "ship-date": "Дата отгрузки поставщиком записана.",
    "ordered": "Заказ поставщику создан.",
    "price": "Цена записана.",
    "supplier": "Поставщик добавлен.",
    "closing-sent": "Документ отмечен отправленным клиенту.",
    "closing-signed": "Документ подписан клиентом.",
    "closing-returned": "Подписанный оригинал получен.",
    "logged": "Документ записан в реестр.",
    "goods": "Товар принят на склад.",
    "request": "Заявка на доставку документов зарегистрирована.",
    "handed": "Документы переданы курьеру.",
    "docs-delivered": "Документы доставлены.",
    "returned": "Возврат оригиналов отмечен.",
    "to-accounting": "Оригиналы переданы в бухгалтерию.",
}

# pydantic's English messages the logistics API may give, as the pages say them (its own
# rule messages come in Russian already)
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), text) for pattern, text in (
        (r"unknown item|no such item", "Такой позиции нет в справочнике."),
        (r"unknown location|no such location", "Выберите место из списка."),
        (r"at least 1 item", "Добавьте хотя бы одну строку."),
        (r"should be greater than 0\b", "Количество должно быть больше нуля."),
    ))
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def say(text: str) -> str:
    """A message from logistics as a sentence: capital first letter, full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def field_errors(exc: ServiceError) -> dict[str, str]:
    """The logistics API's 422 keyed by field (``lines.0.item`` too), in Russian."""
    out: dict[str, str] = {}
    for err in exc.errors:
        name = str(err.get("field", ""))
        text = str(err.get("message", "")).removeprefix("Value error, ")
        russian = next((t for p, t in _MESSAGES if p.search(text)), None)
        if name.endswith("phone") and err.get("type") == "string_pattern_mismatch":
            russian = "Неверный номер телефона."
        if russian is None:
            # pydantic's and the shared rules' English first (its text may quote Russian
            # input), then logistics' own Russian
            russian = field_message(str(err.get("type", "")), text)
            if russian == text and _CYRILLIC.search(text):
                russian = say(text)
        out.setdefault(name, russian)
    return out


def refusal(exc: ServiceError) -> str:
    """A 409 (or a 422 without fields) as one sentence: logistics names the item."""
    text = exc.detail or exc.message
    if _CYRILLIC.search(text):
        return say(text)
    return "Сейчас это сделать нельзя." if exc.status == 409 else exc.message


def _only_desk(viewer: Viewer) -> None:
    if not viewer.has_role(*DESK_ROLES):
        raise PageForbidden("Это действие логистики.")


def _back(path: str, **params: str | None) -> str:
    clean = {k: v for k, v in params.items() if v}
    return path + ("?" + urlencode(clean) if clean else "")


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _number(text: str) -> int | str:
    """A quantity as typed: an integer when it is one, else the text (the API says why)."""
    clean = text.replace("\u00a0", "").replace(" ", "")
    return int(clean) if re.fullmatch(r"-?\d+", clean) else clean


def serial_list(text: str) -> list[str]:
    """Serial numbers typed one per line (or separated by commas / spaces)."""
    return [s for s in re.split(r"[\s,;]+", text) if s]


# --- the pickers' lists -----------------------------------------------------------------------


async def pickers(viewer: Viewer) -> dict[str, Panel]:
    """Items and locations for the selects; every page that names them uses these."""
    return await panels(
        items=viewer.services.get("logistics", "/api/items", limit=LIMIT),
        locations=viewer.services.get("logistics", "/api/locations", limit=LIMIT))


def _key(row: dict[str, Any], *names: str) -> str:
    return next((str(row[n]) for n in names if row.get(n) not in (None, "")), "")


def names(p: dict[str, Panel]) -> dict[str, dict[str, str]]:
    """sku -> item name, location code -> location name (what the stock rows refer to)."""
    items = {_key(i, "sku", "id"): _key(i, "name", "sku") for i in (p["items"].data or [])}
    places = {_key(loc, "code", "id"): _key(loc, "name", "code")
              for loc in (p["locations"].data or [])}
    return {"items": items, "locations": places}


def stock_by_location(rows: list[dict[str, Any]], place_names: dict[str, str]
                      ) -> list[dict[str, Any]]:
    """Stock rows grouped by location (the locations in their order, then any unknown)."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        code = str(row.get("location", ""))
        group = groups.setdefault(code, {
            "location": code, "name": row.get("location_name") or place_names.get(code, code),
            "rows": []})
        group["rows"].append(row)
    order = list(place_names)
    return sorted(groups.values(), key=lambda g: (
        order.index(g["location"]) if g["location"] in order else len(order), g["name"]))


# --- stock ----------------------------------------------------------------------------------


@router.get("")
async def stock(request: Request, viewer: DeskViewer, item: str = "", location: str = "",
                flash: str | None = None, error: str | None = None) -> Response:
    parts = await pickers(viewer)
    parts["stock"] = await panel(viewer.services.get(
        "logistics", "/api/stock", item=item or None, location=location or None))
    parts["reservations"] = await panel(viewer.services.get(
        "logistics", "/api/stock/reservations", item=item or None, status="active",
        limit=LIMIT))
    known = names(parts)
    rows: list[dict[str, Any]] = parts["stock"].data or []
    return render(request, "desks/logistics/stock.html", {
        "p": parts, "n": known, "groups": stock_by_location(rows, known["locations"]),
        "item": item, "location": location, "flash": FLASH.get(flash or ""), "error": error,
        "low": sorted({r.get("item_name") or r["item"] for r in rows if r.get("low")})})


STOCK_FORMS = {
    "receive": ("Приход товара", ("item", "quantity", "serials", "location", "note"),
                "/api/stock/receipts", "received"),
    "move": ("Перемещение", ("item", "quantity", "serials", "from_location", "to_location",
                             "reason"), "/api/stock/moves", "moved"),
    "reserve": ("Резерв", ("item", "quantity", "serials", "location", "note"),
                "/api/stock/reservations", "reserved"),
}


async def _stock_form(request: Request, viewer: Viewer, kind: str, values: dict[str, str],
                      errors: dict[str, str], status: int = 200) -> Response:
    title = STOCK_FORMS[kind][0]
    parts = await pickers(viewer)
    tracked = {str(i.get("sku")) for i in parts["items"].data or []
               if i.get("tracking") == "serial"}
    place = values.get("from_location") if kind == "move" else values.get("location")
    if kind != "receive" and values.get("item") in tracked and place:
        # a serial-tracked item at a known place: its serials in stock to tick, not type
        parts["serials"] = await panel(viewer.services.get(
            "logistics", "/api/stock/serials", item=values["item"], location=place,
            state="in_stock", limit=LIMIT))
    return render(request, "desks/logistics/stock_form.html", {
        "kind": kind, "title": title, "p": parts, "values": values, "errors": errors,
        "reasons": MOVE_REASONS, "picked": values.get("picked", "").splitlines()},
        status=status)


def stock_body(values: dict[str, str]) -> dict[str, Any]:
    """The form as the API's body: quantity or serials (ticked, then typed one per line),
    blanks left out."""
    body: dict[str, Any] = {k: v for k, v in values.items()
                            if v and k not in ("quantity", "serials", "picked")}
    typed = serial_list(values.get("serials", ""))
    serials = [*values.get("picked", "").splitlines(), *typed]
    if serials:
        body["serials"] = serials
    if values.get("quantity"):
        body["quantity"] = _number(values.get("quantity", ""))
    return body


@router.get("/stock/{kind}")
async def stock_form(kind: str, request: Request, viewer: DeskViewer, item: str = "",
                     location: str = "") -> Response:
    if kind not in STOCK_FORMS:
        raise PageForbidden("Такого действия со складом нет.")
    values = {"item": item, "location": location or "warehouse",
              "from_location": location or "warehouse", "reason": "transfer"}
    return await _stock_form(request, viewer, kind, values, {})


@router.post("/stock/{kind}")
async def stock_action(kind: str, request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    if kind not in STOCK_FORMS:
        raise PageForbidden("Такого действия со складом нет.")
    _, fields, path, flash = STOCK_FORMS[kind]
    form = await request.form()
    values = {k: form_str(form, k) for k in fields}
    picked = [v for v in form.getlist("picked") if isinstance(v, str) and v]
    if picked:
        values["picked"] = "\n".join(picked)
    try:
        await viewer.services.post("logistics", path, json=stock_body(values))
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors = field_errors(exc) or {"": refusal(exc)}
            if exc.status == 409:
                errors = {"quantity": refusal(exc)}
            return await _stock_form(request, viewer, kind, values, errors, exc.status)
        raise
    return redirect(_back("/logistics", flash=flash), request)


@router.post("/stock/reservations/{reservation_id}/release")
async def release(reservation_id: uuid.UUID, request: Request, viewer: CheckedViewer
                  ) -> Response:
    _only_desk(viewer)
    try:
        await viewer.services.post("logistics",
                                   f"/api/stock/reservations/{reservation_id}/release")
    except ServiceError as exc:
        if exc.status in (409, 422):
            return redirect(_back("/logistics", error=refusal(exc)), request)
        raise
    return redirect(_back("/logistics", flash="released"), request)


# --- purchasing -----------------------------------------------------------------------------


def po_overdue(po: dict[str, Any], day: date) -> bool:
    """Expected to ship by now and not yet received (logistics' own flag when it gives one)."""
    if po.get("overdue") is not None:
        return bool(po["overdue"])
    due = _day(po.get("expected_ship_on"))
    return bool(due and due < day and po.get("status") in ("ordered", "invoiced"))


@router.get("/purchasing")
async def purchasing(request: Request, viewer: DeskViewer, flash: str | None = None
                     ) -> Response:
    parts = await panels(
        orders=viewer.services.get("logistics", "/api/purchase-orders", limit=LIMIT),
        suppliers=viewer.services.get("logistics", "/api/suppliers", limit=LIMIT),
        offers=viewer.services.get("logistics", "/api/prices", limit=LIMIT),
        searches=viewer.services.get("logistics", "/api/goods-searches", limit=LIMIT))
    day = today()
    orders: list[dict[str, Any]] = parts["orders"].data or []
    for po in orders:
        po["is_overdue"] = po_overdue(po, day)
    # logistics lists the overdue first; kept, with the late ones leading whatever it did
    orders = [po for po in orders if po["is_overdue"]] + [
        po for po in orders if not po["is_overdue"]]
    return render(request, "desks/logistics/purchasing.html", {
        "p": parts, "orders": orders, "flash": FLASH.get(flash or "")})


PO_LINES = 5
PO_LINE_FIELDS = tuple(f"lines.{i}.{f}" for i in range(PO_LINES)
                       for f in ("item", "quantity", "price"))
PO_FIELDS = ("supplier_id", "expected_ship_on", "note")


async def _po_form(request: Request, viewer: Viewer, values: dict[str, str],
                   errors: dict[str, str], status: int = 200) -> Response:
    parts = await panels(
        suppliers=viewer.services.get("logistics", "/api/suppliers", limit=LIMIT),
        items=viewer.services.get("logistics", "/api/items", limit=LIMIT))
    return render(request, "desks/logistics/po_form.html", {
        "p": parts, "values": values, "errors": errors, "lines": range(PO_LINES),
        "known": [*PO_FIELDS, "lines", *PO_LINE_FIELDS]}, status=status)


@router.get("/purchasing/new")
async def new_order(request: Request, viewer: DeskViewer, supplier_id: str = "") -> Response:
    return await _po_form(request, viewer, {"supplier_id": supplier_id}, {})


@router.post("/purchasing/new")
async def create_order(request: Request, viewer: CheckedViewer) -> Response:
    """A purchase order to a supplier: the lines typed (blank rows skipped), priced."""
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in (*PO_FIELDS, *PO_LINE_FIELDS)}
    lines: list[dict[str, Any]] = []
    typed: list[int] = []
    for i in range(PO_LINES):
        item, qty, price = (values[f"lines.{i}.{f}"] for f in ("item", "quantity", "price"))
        if item or qty or price:
            typed.append(i)
            lines.append({"item": item, "quantity": _number(qty),
                          "price": money_input(price)})
    body: dict[str, Any] = {k: values[k] for k in PO_FIELDS if values[k]}
    body["lines"] = lines
    try:
        created = await viewer.services.post("logistics", "/api/purchase-orders", json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors: dict[str, str] = {}
            for name, text in field_errors(exc).items():
                found = re.fullmatch(r"lines\.(\d+)(\..+)?", name)
                if found and int(found.group(1)) < len(typed):
                    name = f"lines.{typed[int(found.group(1))]}{found.group(2) or '.item'}"
                errors.setdefault(name, text)
            return await _po_form(request, viewer, values, errors or {"": refusal(exc)},
                                  exc.status)
        raise
    return redirect(f"/logistics/purchasing/{created['id']}?flash=ordered", request)


SUPPLIER_FIELDS = ("name", "inn", "notes", "contact.name", "contact.role", "contact.phone",
                   "contact.email")


def _supplier_form(request: Request, values: dict[str, str], errors: dict[str, str],
                   status: int = 200) -> Response:
    return render(request, "desks/logistics/supplier_form.html", {
        "values": values, "errors": errors, "known": list(SUPPLIER_FIELDS)}, status=status)


@router.get("/suppliers/new")
async def new_supplier(request: Request, viewer: DeskViewer) -> Response:
    return _supplier_form(request, {}, {})


@router.post("/suppliers/new")
async def create_supplier(request: Request, viewer: CheckedViewer) -> Response:
    """A supplier with one contact person (the INN's checksum is checked by logistics)."""
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in SUPPLIER_FIELDS}
    body: dict[str, Any] = {k: values[k] for k in ("name", "inn", "notes") if values[k]}
    contact = {k: values[f"contact.{k}"] for k in ("name", "role", "phone", "email")
               if values[f"contact.{k}"]}
    body["contacts"] = [contact] if contact else []
    try:
        created = await viewer.services.post("logistics", "/api/suppliers", json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors: dict[str, str] = {}
            for name, text in field_errors(exc).items():
                errors.setdefault(re.sub(r"^contacts\.\d+\.", "contact.", name), text)
            if exc.status == 409:
                errors = {"inn": refusal(exc)}
            return _supplier_form(request, values, errors or {"": refusal(exc)}, exc.status)
        raise
    return redirect(f"/logistics/suppliers/{created['id']}?flash=supplier", request)


PRICE_FIELDS = ("item", "price", "valid_from", "availability")


@router.post("/suppliers/{supplier_id}/prices")
async def add_price(supplier_id: uuid.UUID, request: Request, viewer: CheckedViewer
                    ) -> Response:
    """A supplier's price from a date (its history keeps the old ones)."""
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in PRICE_FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    if "price" in body:
        body["price"] = money_input(body["price"])
    try:
        await viewer.services.post("logistics", f"/api/suppliers/{supplier_id}/prices",
                                   json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            return await _supplier_page(request, viewer, supplier_id, values=values,
                                        errors=field_errors(exc) or {"": refusal(exc)},
                                        status=exc.status)
        raise
    return redirect(f"/logistics/suppliers/{supplier_id}?flash=price", request)


def price_history(prices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each item's prices oldest first, with the change against the one before in % (what
    logistics says, else worked out here)."""
    by_item: dict[str, list[dict[str, Any]]] = {}
    for p in sorted(prices, key=lambda p: str(p.get("valid_from") or "")):
        by_item.setdefault(str(p.get("item", "")), []).append(dict(p))
    for rows in by_item.values():
        before: Decimal | None = None
        for row in rows:
            try:
                price = Decimal(str(row.get("price")))
            except (InvalidOperation, ValueError):
                continue
            if row.get("change_percent") is None and before:
                row["change_percent"] = ((price - before) / before * 100).quantize(
                    Decimal("0.1"))
            before = price
    return [row for rows in by_item.values() for row in rows]


@router.get("/suppliers/{supplier_id}")
async def supplier(supplier_id: uuid.UUID, request: Request, viewer: DeskViewer,
                   flash: str | None = None) -> Response:
    return await _supplier_page(request, viewer, supplier_id, flash=flash)


async def _supplier_page(request: Request, viewer: Viewer, supplier_id: uuid.UUID, *,
                         values: dict[str, str] | None = None,
                         errors: dict[str, str] | None = None, flash: str | None = None,
                         status: int = 200) -> Response:
    parts = await panels(
        suppliers=viewer.services.get("logistics", "/api/suppliers", limit=LIMIT),
        prices=viewer.services.get("logistics", "/api/prices", supplier_id=str(supplier_id),
                                   history="true", limit=LIMIT),
        items=viewer.services.get("logistics", "/api/items", limit=LIMIT))
    found = next((s for s in parts["suppliers"].data or []
                  if str(s.get("id")) == str(supplier_id)), None)
    if parts["suppliers"].ok and found is None:
        raise PageNotFound("Такого поставщика нет.")
    if parts["prices"].ok:
        parts["prices"].data = price_history(parts["prices"].data)
    return render(request, "desks/logistics/supplier.html", {
        "supplier": found or {"name": "Поставщик"}, "supplier_id": str(supplier_id),
        "p": parts, "values": values or {"valid_from": today().isoformat()},
        "errors": errors or {}, "flash": FLASH.get(flash or "")}, status=status)


INVOICE_FIELDS = ("number", "issued_on", "amount", "vat", "due_on")
RECEIVE_FIELDS = ("received_on", "location", "remote", "note")


async def _order_page(request: Request, viewer: Viewer, order_id: uuid.UUID, *,
                      values: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None, form: str = "",
                      status: int = 200) -> Response:
    order = await viewer.services.get("logistics", f"/api/purchase-orders/{order_id}")
    parts = await pickers(viewer)
    order["is_overdue"] = po_overdue(order, today())
    tracked = {str(i.get("sku")) for i in parts["items"].data or []
               if i.get("tracking") == "serial"}
    skus = [str(line.get("item")) for line in order.get("lines") or []]
    known = [*INVOICE_FIELDS, *RECEIVE_FIELDS, "expected_ship_on", "file",
             *(f"serials.{s}" for s in skus)]
    return render(request, "desks/logistics/order.html", {
        "order": order, "p": parts, "n": names(parts), "form": form, "known": known,
        "tracked": tracked,
        "values": values or {"issued_on": today().isoformat(),
                             "received_on": today().isoformat(), "vat": "0,00",
                             "location": "warehouse",
                             "expected_ship_on": str(order.get("expected_ship_on") or "")},
        "errors": errors or {}, "flash": FLASH.get(request.query_params.get("flash", ""))},
        status=status)


@router.get("/purchasing/{order_id}")
async def order(order_id: uuid.UUID, request: Request, viewer: DeskViewer) -> Response:
    return await _order_page(request, viewer, order_id)


@router.get("/purchasing/{order_id}/attachments/{attachment_id}")
async def attachment(order_id: uuid.UUID, attachment_id: uuid.UUID, viewer: DeskViewer
                     ) -> Response:
    """A photo or document of the acceptance, as logistics keeps it."""
    upstream = await viewer.services.document(
        "logistics", f"/api/purchase-orders/{order_id}/attachments/{attachment_id}")
    return Response(upstream.content, media_type=upstream.headers.get("content-type"),
                    headers={"Content-Disposition": upstream.headers.get(
                        "content-disposition", "inline")})


async def _order_post(request: Request, viewer: Viewer, order_id: uuid.UUID, form: str,
                      path: str, values: dict[str, str], body: dict[str, Any], flash: str,
                      rename: Callable[[str], str] = str) -> Response:
    """One write on a purchase order; its refusal comes back at the form's fields."""
    try:
        await viewer.services.post("logistics", f"/api/purchase-orders/{order_id}/{path}",
                                   json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors: dict[str, str] = {}
            for name, text in field_errors(exc).items():
                errors.setdefault(rename(name), text)
            return await _order_page(request, viewer, order_id, values=values, form=form,
                                     errors=errors or {"": refusal(exc)}, status=exc.status)
        raise
    return redirect(f"/logistics/purchasing/{order_id}?flash={flash}", request)


@router.post("/purchasing/{order_id}/invoice")
async def order_invoice(order_id: uuid.UUID, request: Request, viewer: CheckedViewer
                        ) -> Response:
    """The supplier's invoice for the order (logistics passes it on to billing's payables)."""
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in INVOICE_FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    for key in ("amount", "vat"):
        if key in body:
            body[key] = money_input(body[key])
    return await _order_post(request, viewer, order_id, "invoice", "invoice", values, body,
                             "invoice")


@router.post("/purchasing/{order_id}/ship-date")
async def order_ship_date(order_id: uuid.UUID, request: Request, viewer: CheckedViewer
                          ) -> Response:
    _only_desk(viewer)
    form = await request.form()
    values = {"expected_ship_on": form_str(form, "expected_ship_on")}
    body = {k: v for k, v in values.items() if v}
    return await _order_post(request, viewer, order_id, "ship-date", "ship-date", values, body,
                             "ship-date")


@router.post("/purchasing/{order_id}/receive")
async def order_receive(order_id: uuid.UUID, request: Request, viewer: CheckedViewer
                        ) -> Response:
    """Goods received against the order, every line into stock (serial-tracked lines with
    their serials); remote acceptance carries the photos and documents sent to us, each
    attached first."""
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in RECEIVE_FIELDS}
    serials: dict[str, list[str]] = {}
    for key in form:
        if key.startswith("serials."):
            values[key] = form_str(form, key)
            typed = serial_list(values[key])
            if typed:
                serials[key.removeprefix("serials.")] = typed
    for upload in form.getlist("file"):
        if isinstance(upload, str) or not upload.filename:
            continue
        try:
            await viewer.services.post(
                "logistics", f"/api/purchase-orders/{order_id}/attachments",
                files={"file": (upload.filename, await upload.read(),
                                upload.content_type or "application/octet-stream")})
        except ServiceError as exc:
            if exc.status in (409, 413, 415, 422):
                text = "; ".join(field_errors(exc).values()) or refusal(exc)
                return await _order_page(request, viewer, order_id, values=values,
                                         form="receive", status=exc.status,
                                         errors={"file": f"{upload.filename}: {text}"})
            raise
    body: dict[str, Any] = {"received_on": values["received_on"],
                            "remote": values["remote"] == "on", "serials": serials}
    body.update({k: values[k] for k in ("location", "note") if values[k]})
    return await _order_post(request, viewer, order_id, "receive", "received", values, body,
                             "goods", rename=receipt_field)


def receipt_field(name: str) -> str:
    """Where the goods-received form shows an error: a line's serials at that line, the
    attachments remote acceptance needs at the file input, the rest above the form."""
    found = re.match(r"serials\.([^.]+)", name)
    if found:
        return f"serials.{found.group(1)}"
    return {"remote": "file", "received_on": "received_on", "location": "location",
            "note": "note"}.get(name, "")


# --- shipments ------------------------------------------------------------------------------


def board_column(status: str) -> str:
    return status if status in ("planned", "in_transit", "delivered") else ""


@router.get("/shipments")
async def shipments(request: Request, viewer: DeskViewer, flash: str | None = None,
                    notice: str | None = None, error: str | None = None) -> Response:
    return await _board(request, viewer, flash=flash, notice=notice, error=error)


async def _board(request: Request, viewer: Viewer, *, flash: str | None = None,
                 notice: str | None = None, error: str | None = None,
                 errors: dict[str, dict[str, str]] | None = None,
                 values: dict[str, dict[str, str]] | None = None, status: int = 200
                 ) -> Response:
    parts = await panels(
        shipments=viewer.services.get("logistics", "/api/shipments", limit=LIMIT),
        accounts=viewer.services.get("logistics", "/api/courier-accounts"))
    columns: dict[str, list[dict[str, Any]]] = {k: [] for k, _ in BOARD}
    for s in parts["shipments"].data or []:
        column = board_column(str(s.get("status")))
        if column:
            columns[column].append(s)
    columns["planned"].sort(key=lambda s: str(s.get("ships_on") or "9"))
    columns["delivered"].sort(key=lambda s: str(s.get("delivered_on") or ""), reverse=True)
    return render(request, "desks/logistics/shipments.html", {
        "p": parts, "board": BOARD, "columns": columns, "flash": FLASH.get(flash or ""),
        "notice": notice, "error": error, "errors": errors or {}, "values": values or {}},
        status=status)


SHIPMENT_LINES = 5  # line rows on the form
SHIPMENT_FIELDS = ("client_id", "site_id", "carrier", "arrival_on", "ships_on", "address",
                   "contact_name", "contact_phone")
LINE_FIELDS = tuple(f"lines.{i}.{f}" for i in range(SHIPMENT_LINES) for f in ("item", "quantity"))


async def _shipment_form(request: Request, viewer: Viewer, values: dict[str, str],
                         errors: dict[str, str], status: int = 200) -> Response:
    q, client_id = values.get("q", ""), values.get("client_id", "")
    calls = {"items": viewer.services.get("logistics", "/api/items", limit=LIMIT),
             "carriers": viewer.services.get("logistics", "/api/carriers"),
             "stock": viewer.services.get("logistics", "/api/stock", location="warehouse")}
    if client_id:
        calls["client"] = viewer.services.get("contracts", f"/api/clients/{client_id}")
        calls["sites"] = viewer.services.get("contracts", f"/api/clients/{client_id}/sites")
    else:
        calls["clients"] = viewer.services.get("contracts", "/api/clients", q=q or None,
                                               limit=50)
    parts = await panels(**calls)
    available = {str(r["item"]): r.get("available") for r in (parts["stock"].data or [])}
    return render(request, "desks/logistics/shipment_form.html", {
        "p": parts, "values": values, "errors": errors, "lines": range(SHIPMENT_LINES),
        "available": available, "known": [*SHIPMENT_FIELDS, "lines", *LINE_FIELDS],
        "carriers": carrier_options(parts["carriers"])},
        status=status)


def carrier_options(p: Panel) -> list[tuple[str, str]]:
    """(code, label) of the carriers logistics offers; the known four when it does not say."""
    if p.ok and p.data:
        return [(_key(c, "code"), _key(c, "label", "name", "code")) for c in p.data]
    return list(CARRIERS.items())


@router.get("/shipments/new")
async def new_shipment(request: Request, viewer: DeskViewer, q: str = "",
                       client_id: str = "") -> Response:
    return await _shipment_form(request, viewer, {"q": q, "client_id": client_id}, {})


def shipment_body(values: dict[str, str]) -> dict[str, Any]:
    lines = []
    for i in range(SHIPMENT_LINES):
        item, qty = values.get(f"lines.{i}.item", ""), values.get(f"lines.{i}.quantity", "")
        if item or qty:
            line: dict[str, Any] = {"item": item}
            if qty:
                line["quantity"] = _number(qty)
            lines.append(line)
    body: dict[str, Any] = {k: values[k] for k in SHIPMENT_FIELDS if values.get(k)}
    body["lines"] = lines
    return body


@router.post("/shipments/new")
async def create_shipment(request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in (*SHIPMENT_FIELDS, *LINE_FIELDS)}
    try:
        await viewer.services.post("logistics", "/api/shipments", json=shipment_body(values))
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors = _renumber(field_errors(exc), values) or {"lines": refusal(exc)}
            return await _shipment_form(request, viewer, values, errors, exc.status)
        raise
    return redirect("/logistics/shipments?flash=shipment", request)


def _renumber(errors: dict[str, str], values: dict[str, str]) -> dict[str, str]:
    """The API numbers the lines it got; the form skips blank rows: point at the row typed."""
    typed = [i for i in range(SHIPMENT_LINES)
             if values.get(f"lines.{i}.item") or values.get(f"lines.{i}.quantity")]
    out: dict[str, str] = {}
    for name, text in errors.items():
        found = re.fullmatch(r"lines\.(\d+)(\..+)?", name)
        if found and int(found.group(1)) < len(typed):
            name = f"lines.{typed[int(found.group(1))]}{found.group(2) or '.item'}"
        out.setdefault(name, text)
    return out


SHIPMENT_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "dates": (("arrival_on", "ships_on"), "dates"),
    "dispatch": (("shipped_on",), "dispatched"),
    "delivered": (("delivered_on", "received_by"), "delivered"),
    "cancel": ((), "cancelled"),
}


@router.post("/shipments/{shipment_id}/quote")
async def shipment_quote(shipment_id: uuid.UUID, request: Request, viewer: CheckedViewer
                         ) -> Response:
    """Ask the shipment's carrier for its price and days; said at the top of the board."""
    _only_desk(viewer)
    try:
        found = await viewer.services.post("logistics", f"/api/shipments/{shipment_id}/quote")
    except ServiceError as exc:
        if exc.status in (409, 422) or exc.status >= 500 or exc.status == 0:
            return redirect(_back("/logistics/shipments", error=refusal(exc)), request)
        raise
    days = (f"{found['days_min']}–{found['days_max']}" if found.get("days_max") not in
            (None, found.get("days_min")) else str(found.get("days_min") or "—"))
    text = f"Цена у перевозчика: {money(found.get('price'))}, в пути {days} дн."
    return redirect(_back("/logistics/shipments", notice=text), request)


@router.post("/shipments/{shipment_id}/{action}")
async def shipment_action(shipment_id: uuid.UUID, action: str, request: Request,
                          viewer: CheckedViewer) -> Response:
    """Agree the dates, hand a planned shipment to the carrier, mark it delivered (the
    client's receipt), or cancel it; a refusal comes back at the card's own fields."""
    _only_desk(viewer)
    if action not in SHIPMENT_ACTIONS:
        raise PageForbidden("Такого действия с отгрузкой нет.")
    fields, flash = SHIPMENT_ACTIONS[action]
    form = await request.form()
    values = {k: form_str(form, k) for k in fields}
    body = {k: v for k, v in values.items() if v}
    try:
        await viewer.services.post("logistics", f"/api/shipments/{shipment_id}/{action}",
                                   json=body if fields else None)
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors = field_errors(exc) or {"": refusal(exc)}
            return await _board(request, viewer, errors={str(shipment_id): errors},
                                values={str(shipment_id): values}, status=exc.status)
        raise
    return redirect(f"/logistics/shipments?flash={flash}", request)


@router.post("/carriers/status")
async def carrier_status(request: Request, viewer: CheckedViewer) -> Response:
    """Ask every carrier now where the shipments in transit are (the job does it too)."""
    _only_desk(viewer)
    found = await viewer.services.post("logistics", "/api/jobs/carrier-status")
    return redirect(_back("/logistics/shipments", notice=(
        f"Статусы у перевозчиков проверены: {int(found.get('checked', 0))}, "
        f"изменились: {int(found.get('changed', 0))}.")), request)


@router.post("/courier-accounts/{carrier}/refresh")
async def refresh_balance(carrier: str, request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    if not re.fullmatch(r"[a-z_]{1,32}", carrier):
        raise PageForbidden("Такого перевозчика нет.")
    try:
        account = await viewer.services.post(
            "logistics", f"/api/courier-accounts/{carrier}/refresh")
    except ServiceError as exc:
        if exc.status in (404, 409, 422) or exc.status >= 500 or exc.status == 0:
            return redirect(_back("/logistics/shipments", error=refusal(exc)), request)
        raise
    return redirect(_back("/logistics/shipments", notice=(
        f"Баланс «{account.get('carrier_label') or CARRIERS.get(carrier, carrier)}»: "
        f"{money(account.get('balance'))}.")), request)


# --- closing documents ----------------------------------------------------------------------


def closing_late(row: dict[str, Any]) -> bool:
    """Unsigned long enough that the client was reminded (or the head told)."""
    return row.get("status") in AWAITING and bool(row.get("reminded_on")
                                                  or row.get("escalated_on"))


@router.get("/closing-documents")
async def closing_documents(request: Request, viewer: DeskViewer, show: str = "awaiting",
                            flash: str | None = None) -> Response:
    return await _closing(request, viewer, show=show, flash=flash)


async def _closing(request: Request, viewer: Viewer, *, show: str = "awaiting",
                   flash: str | None = None, errors: dict[str, dict[str, str]] | None = None,
                   values: dict[str, dict[str, str]] | None = None, status: int = 200
                   ) -> Response:
    listed = await panel(viewer.services.get("logistics", "/api/closing-documents",
                                             limit=LIMIT))
    rows: list[dict[str, Any]] = listed.data or []
    for row in rows:
        row["is_overdue"] = closing_late(row)
    awaiting = [r for r in rows if r.get("status") in AWAITING]
    # logistics gives the sent-and-unsigned first; the late ones lead among them
    shown = rows if show == "all" else (
        [r for r in awaiting if r["is_overdue"]] + [r for r in awaiting if not r["is_overdue"]])
    return render(request, "desks/logistics/closing.html", {
        "listed": listed, "rows": shown, "show": show, "awaiting": len(awaiting),
        "flash": FLASH.get(flash or ""), "errors": errors or {}, "values": values or {}},
        status=status)


RECEIVED_KIND = {"invoice": "Счёт на оплату", "act": "Акт выполненных работ",
                 "vat_invoice": "Счёт-фактура", "upd": "УПД"}
RECEIVED_FIELDS = ("client_id", "kind", "number", "issued_on", "amount", "received_on")


async def _received(request: Request, viewer: Viewer, *, q: str = "",
                    values: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None, flash: str | None = None,
                    notice: str | None = None, status: int = 200) -> Response:
    parts = await panels(
        pending=viewer.services.get("logistics", "/api/received-documents", pending="true",
                                    limit=LIMIT),
        handed=viewer.services.get("logistics", "/api/received-documents", pending="false",
                                   limit=50),
        clients=viewer.services.get("contracts", "/api/clients", q=q or None, limit=50))
    if parts["handed"].ok:
        parts["handed"].data = [r for r in parts["handed"].data if r.get("accounting_on")]
    return render(request, "desks/logistics/received.html", {
        "p": parts, "q": q, "kinds": RECEIVED_KIND, "errors": errors or {},
        "values": values or {"received_on": today().isoformat(), "kind": "invoice"},
        "flash": FLASH.get(flash or ""), "notice": notice}, status=status)


@router.get("/closing-documents/received")
async def received_documents(request: Request, viewer: DeskViewer, q: str = "",
                             flash: str | None = None, notice: str | None = None
                             ) -> Response:
    """Invoices, acts and VAT invoices received from clients, on their way to accounting."""
    return await _received(request, viewer, q=q, flash=flash, notice=notice)


@router.post("/closing-documents/received")
async def log_received(request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in RECEIVED_FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    if "amount" in body:
        body["amount"] = money_input(body["amount"])
    try:
        await viewer.services.post("logistics", "/api/received-documents", json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors = field_errors(exc) or {"": refusal(exc)}
            if exc.status == 409:
                errors = {"number": "Этот документ уже записан в реестр."}
            return await _received(request, viewer, q=form_str(form, "q"), values=values,
                                   errors=errors, status=exc.status)
        raise
    return redirect("/logistics/closing-documents/received?flash=logged", request)


@router.post("/closing-documents/received/to-accounting")
async def received_to_accounting(request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    ids = [v for v in form.getlist("documents") if isinstance(v, str) and v]
    back = "/logistics/closing-documents/received"
    if not ids:
        return redirect(_back(back, notice="Отметьте документы, которые передаёте."), request)
    try:
        done = await viewer.services.post(
            "logistics", "/api/received-documents/to-accounting",
            json={"documents": ids, "handed_on": form_str(form, "handed_on")})
    except ServiceError as exc:
        if exc.status in (409, 422):
            return redirect(_back(back, notice=refusal(exc) if not exc.errors else "; ".join(
                field_errors(exc).values())), request)
        raise
    return redirect(_back(back, notice=(
        f"Передано в бухгалтерию: {int(done.get('handed', len(ids)))}.")), request)


CLOSING_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "sent": (("sent_on", "number", "amount"), "closing-sent"),
    "signed": (("signed_on",), "closing-signed"),
    "returned": (("returned_on",), "closing-returned"),
}


@router.post("/closing-documents/{document_id}/{action}")
async def closing_action(document_id: uuid.UUID, action: str, request: Request,
                         viewer: CheckedViewer) -> Response:
    """Sent to the client (its number and amount as issued), signed, original back."""
    _only_desk(viewer)
    if action not in CLOSING_ACTIONS:
        raise PageForbidden("Такого действия с документом нет.")
    fields, flash = CLOSING_ACTIONS[action]
    form = await request.form()
    values = {k: form_str(form, k) for k in fields}
    body = {k: v for k, v in values.items() if v}
    if "amount" in body:
        body["amount"] = money_input(body["amount"])
    show = "all" if form_str(form, "show") == "all" else "awaiting"
    try:
        await viewer.services.post(
            "logistics", f"/api/closing-documents/{document_id}/{action}", json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            return await _closing(request, viewer, show=show, status=exc.status,
                                  values={str(document_id): values}, errors={
                                      str(document_id): field_errors(exc) or {
                                          "": refusal(exc)}})
        raise
    return redirect(_back("/logistics/closing-documents", flash=flash,
                          show=show if show == "all" else None), request)


# --- the document courier -------------------------------------------------------------------


def originals_overdue(row: dict[str, Any], day: date) -> bool:
    if row.get("overdue") is not None:
        return bool(row["overdue"])
    due = _day(row.get("originals_due_on"))
    return bool(due and due < day and row.get("status") not in RETURNED)


def journal_order(rows: list[dict[str, Any]], day: date) -> list[dict[str, Any]]:
    """Overdue originals first, each part in the order logistics gave (the longest overdue
    first, then the journal)."""
    for row in rows:
        row["is_overdue"] = originals_overdue(row, day)
        row["outstanding"] = [d for d in row.get("documents") or []
                              if isinstance(d, dict) and d.get("original_required", True)
                              and not d.get("returned_on")]
    return [r for r in rows if r["is_overdue"]] + [r for r in rows if not r["is_overdue"]]


@router.get("/courier")
async def courier(request: Request, viewer: DeskViewer, flash: str | None = None,
                  number: str | None = None) -> Response:
    return await _journal(request, viewer, flash=flash, number=number)


async def _journal(request: Request, viewer: Viewer, *, flash: str | None = None,
                   number: str | None = None, errors: dict[str, dict[str, str]] | None = None,
                   values: dict[str, dict[str, str]] | None = None, status: int = 200
                   ) -> Response:
    listed = await panel(viewer.services.get("logistics", "/api/document-deliveries",
                                             limit=LIMIT))
    rows = journal_order(list(listed.data or []), today())
    text = FLASH.get(flash or "")
    if text and number:
        text = f"{text} Номер в журнале: {number}."
    return render(request, "desks/logistics/courier.html", {
        "listed": listed, "rows": rows, "late": sum(1 for r in rows if r["is_overdue"]),
        "flash": text, "errors": errors or {}, "values": values or {},
        "courier_kinds": COURIER_KIND}, status=status)


REQUEST_FIELDS = ("client_id", "documents", "originals_due_on", "address", "note")


async def _request_form(request: Request, viewer: Viewer, values: dict[str, str],
                        errors: dict[str, str], status: int = 200) -> Response:
    client_id = values.get("client_id", "")
    if client_id:
        parts = {"client": await panel(viewer.services.get("contracts",
                                                           f"/api/clients/{client_id}"))}
    else:
        parts = {"clients": await panel(viewer.services.get(
            "contracts", "/api/clients", q=values.get("q") or None, limit=50))}
    return render(request, "desks/logistics/courier_form.html", {
        "p": parts, "values": values, "errors": errors}, status=status)


@router.get("/courier/new")
async def new_request(request: Request, viewer: DeskViewer, q: str = "", client_id: str = ""
                      ) -> Response:
    return await _request_form(request, viewer, {"q": q, "client_id": client_id}, {})


@router.post("/courier/new")
async def create_request(request: Request, viewer: CheckedViewer) -> Response:
    _only_desk(viewer)
    form = await request.form()
    values = {k: form_str(form, k) for k in REQUEST_FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v and k != "documents"}
    body["documents"] = [d.strip() for d in values["documents"].splitlines() if d.strip()]
    try:
        created = await viewer.services.post("logistics", "/api/document-deliveries",
                                             json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            errors: dict[str, str] = {}
            for name, text in field_errors(exc).items():
                errors.setdefault(re.sub(r"^documents\.\d+.*", "documents", name), text)
            return await _request_form(request, viewer, values,
                                       errors or {"": refusal(exc)}, exc.status)
        raise
    number = created.get("journal_number") if isinstance(created, dict) else None
    return redirect(_back("/logistics/courier", flash="request",
                          number=str(number) if number else None), request)


DELIVERY_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "handed": (("courier", "courier_kind", "handed_on"), "handed"),
    "delivered": (("delivered_on",), "docs-delivered"),
    "returned": (("returned_on",), "returned"),
    "to-accounting": (("handed_on", "mark"), "to-accounting"),
}


@router.post("/courier/{delivery_id}/{action}")
async def delivery_action(delivery_id: uuid.UUID, action: str, request: Request,
                          viewer: CheckedViewer) -> Response:
    """The journal's steps: handed to a courier, delivered, originals returned (all that
    are out, or the ones ticked), handed to accounting with the journal mark."""
    _only_desk(viewer)
    if action not in DELIVERY_ACTIONS:
        raise PageForbidden("Такого действия с заявкой нет.")
    fields, flash = DELIVERY_ACTIONS[action]
    form = await request.form()
    values = {k: form_str(form, k) for k in fields}
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    if action == "returned":
        ticked = [d for d in form.getlist("documents") if isinstance(d, str) and d]
        if ticked:
            body["documents"] = ticked
    try:
        await viewer.services.post(
            "logistics", f"/api/document-deliveries/{delivery_id}/{action}", json=body)
    except ServiceError as exc:
        if exc.status in (409, 422):
            return await _journal(request, viewer, status=exc.status,
                                  values={str(delivery_id): values}, errors={
                                      str(delivery_id): field_errors(exc) or {
                                          "": refusal(exc)}})
        raise
    return redirect(f"/logistics/courier?flash={flash}", request)


# --- the client card's part -----------------------------------------------------------------


@router.get("/clients/{client_id}/panel")
async def client_panel(client_id: uuid.UUID, request: Request, viewer: CurrentViewer
                       ) -> Response:
    """The client's shipments and documents out for signature, loaded into the card."""
    cid = str(client_id)
    parts = await panels(
        shipments=viewer.services.get("logistics", "/api/shipments", client_id=cid,
                                      limit=100),
        documents=viewer.services.get("logistics", "/api/closing-documents", client_id=cid,
                                      limit=100),
        deliveries=viewer.services.get("logistics", "/api/document-deliveries",
                                       client_id=cid, limit=100))
    day = today()
    if parts["documents"].ok:
        parts["documents"].data = [d for d in parts["documents"].data
                                   if d.get("status") in AWAITING]
    if parts["deliveries"].ok:
        # out with the counterparty: handed to a courier or delivered, originals not back
        parts["deliveries"].data = [d for d in journal_order(parts["deliveries"].data, day)
                                    if d.get("status") in ("handed", "delivered")]
    return render(request, "desks/logistics/_client_panel.html", {
        "p": parts, "client_id": cid, "loaded": True, "may_act": viewer.has_role(*DESK_ROLES)},
        block="logistics_panel")

