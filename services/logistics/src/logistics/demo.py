"""Demo data for ``make run`` (called by ``clientops_shared.devtools seed-demo``), through the
logistics API like a person at the desk: goods in stock at the warehouse and the office, one
item under its minimum, shipments planned / in transit / delivered, and document deliveries
including one whose originals are late."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx

ITEMS = (
    # sku, name, kind, tracking, minimum, warehouse stock (serials or count)
    ("BAR-CAME-G4", "Шлагбаум CAME GARD 4000", "barrier", "serial", 2,
     ["CG4-0001", "CG4-0002", "CG4-0003"]),
    ("TRN-PERCO-10", "Турникет PERCo TTR-10", "turnstile", "serial", 1, ["TTR-0101", "TTR-0102"]),
    ("BOOM-4M", "Стрела 4 м со светодиодами", "boom", "count", 2, 6),
    ("TERM-PAX-A80", "Платёжный терминал PAX A80", "terminal", "serial", 3,
     ["PAX-80-1001", "PAX-80-1002", "PAX-80-1003", "PAX-80-1004", "PAX-80-1005"]),
    ("CTRL-Z5R", "Контроллер доступа Z-5R Web", "controller", "count", 4, 10),
    ("PART-REMOTE", "Пульт ДУ для шлагбаума", "part", "count", 10, 4),
)


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise SystemExit(f"logistics demo: {response.request.method} {response.request.url} → "
                         f"{response.status_code} {response.text[:300]}")
    return response.json()


def seed(urls: dict[str, str], login: Callable[[str], dict[str, str]],
         timeout: float = 60.0) -> None:
    api = urls["logistics"] + "/api"
    auth = login("logistics")
    if _ok(httpx.get(f"{api}/items", headers=auth)):
        print("demo: logistics stock already there")
        return
    for sku, name, kind, tracking, minimum, stock in ITEMS:
        _ok(httpx.post(f"{api}/items", headers=auth, json={
            "sku": sku, "name": name, "kind": kind, "tracking": tracking,
            "min_stock": minimum}))
        receipt: dict[str, Any] = {"item": sku, "location": "warehouse"}
        receipt["serials" if tracking == "serial" else "quantity"] = stock
        _ok(httpx.post(f"{api}/stock/receipts", headers=auth, json=receipt))
    _ok(httpx.post(f"{api}/stock/moves", headers=auth, json={
        "item": "CTRL-Z5R", "quantity": 2, "from_location": "warehouse", "to_location": "office",
        "reason": "to_office", "note": "Для выездов техников из офиса"}))

    # the clients arrive in logistics' directory through contracts' events
    deadline = time.monotonic() + timeout
    clients: list[dict[str, Any]] = []
    while len(clients) < 2 and time.monotonic() < deadline:
        clients = _ok(httpx.get(f"{api}/clients", headers=auth))
        time.sleep(0.5)
    if len(clients) < 2:
        raise SystemExit("logistics demo: the clients did not reach logistics in time")
    head = login("head")
    today = date.today()

    def site_of(client_id: str) -> str:
        sites = _ok(httpx.get(f"{urls['contracts']}/api/clients/{client_id}/sites",
                              headers=head))
        return str(sites[0]["id"])

    def shipment(client: dict[str, Any], carrier: str, lines: list[dict[str, Any]],
                 **extra: Any) -> str:
        return str(_ok(httpx.post(f"{api}/shipments", headers=auth, json={
            "client_id": client["client_id"], "site_id": site_of(client["client_id"]),
            "carrier": carrier, "lines": lines, "address": "Москва", "contact_name":
            "Ответственный на объекте", "contact_phone": "+7 495 000-00-00", **extra}))["id"])

    first, second = clients[0], clients[1]
    shipment(first, "dostavista", [{"item": "TERM-PAX-A80", "serials": ["PAX-80-1001"]},
                                   {"item": "CTRL-Z5R", "quantity": 1}],
             arrival_on=today.isoformat(), ships_on=(today + timedelta(days=2)).isoformat())
    on_the_way = shipment(second, "truck", [{"item": "BAR-CAME-G4", "serials": ["CG4-0001"]},
                                            {"item": "BOOM-4M", "quantity": 1}])
    _ok(httpx.post(f"{api}/shipments/{on_the_way}/dispatch", headers=auth,
                   json={"shipped_on": (today - timedelta(days=1)).isoformat()}))
    done = shipment(first, "cdek", [{"item": "TRN-PERCO-10", "serials": ["TTR-0101"]}])
    _ok(httpx.post(f"{api}/shipments/{done}/dispatch", headers=auth,
                   json={"shipped_on": (today - timedelta(days=3)).isoformat()}))
    _ok(httpx.post(f"{api}/shipments/{done}/delivered", headers=auth, json={
        "delivered_on": (today - timedelta(days=1)).isoformat(),
        "received_by": "Завхоз Иванов И. И."}))

    def delivery(client: dict[str, Any], documents: list[Any], due: date | None,
                 handed: date | None = None, delivered: date | None = None) -> str:
        found = _ok(httpx.post(f"{api}/document-deliveries", headers=auth, json={
            "client_id": client["client_id"], "documents": documents,
            "originals_due_on": due.isoformat() if due else None}))
        if handed:
            _ok(httpx.post(f"{api}/document-deliveries/{found['id']}/handed", headers=auth,
                           json={"courier": "Курьер Сидоров", "courier_kind": "courier",
                                 "handed_on": handed.isoformat()}))
        if delivered:
            _ok(httpx.post(f"{api}/document-deliveries/{found['id']}/delivered", headers=auth,
                           json={"delivered_on": delivered.isoformat()}))
        return str(found["id"])

    delivery(second, ["Договор аренды № 45/2026", "Акт приёма-передачи терминала"],
             today - timedelta(days=7), today - timedelta(days=14), today - timedelta(days=13))
    delivery(first, ["Доп. соглашение о продлении", {"title": "Счёт № 312",
                                                     "original_required": False}],
             today + timedelta(days=10), today - timedelta(days=1), today)
    delivery(first, ["Протокол согласования цены"], None)
    # the service's own daily control already ran for today when it started, before these
    # deliveries were entered: run yesterday's, as it would have run had they been there
    _ok(httpx.post(f"{api}/jobs/originals-control", headers=auth,
                   json={"on": (today - timedelta(days=1)).isoformat()}))

    # purchasing: two suppliers, a price that went up, an order the supplier is late with
    suppliers = []
    for name, inn, contact in (("ООО «Шлагбаумы Оптом» (демо)", "7702070139", "Анна"),
                               ("ООО «СКУД-Снаб» (демо)", "7708004767", "Игорь")):
        suppliers.append(_ok(httpx.post(f"{api}/suppliers", headers=auth, json={
            "name": name, "inn": inn, "contacts": [
                {"name": contact, "phone": "+7 495 111-22-33", "role": "менеджер"}]}))["id"])
    for supplier_id, price, valid_from in (
            (suppliers[0], "50000.00", today - timedelta(days=60)),
            (suppliers[0], "56000.00", today - timedelta(days=5)),
            (suppliers[1], "54500.00", today - timedelta(days=20))):
        _ok(httpx.post(f"{api}/suppliers/{supplier_id}/prices", headers=auth, json={
            "item": "BAR-CAME-G4", "price": price, "valid_from": valid_from.isoformat(),
            "availability": "в наличии"}))
    order = _ok(httpx.post(f"{api}/purchase-orders", headers=auth, json={
        "supplier_id": suppliers[1], "expected_ship_on": today.isoformat(),
        "lines": [{"item": "PART-REMOTE", "quantity": 20, "price": "450.00"}]}))
    _ok(httpx.post(f"{api}/purchase-orders/{order['id']}/invoice", headers=auth, json={
        "number": "СС-1187", "issued_on": today.isoformat(), "amount": "9000.00",
        "vat": "1622.95", "due_on": (today + timedelta(days=5)).isoformat()}))
    _ok(httpx.post(f"{api}/goods-searches", headers=auth, json={
        "title": "Стрела 6 м с шарниром", "description": "Парковка с низким потолком"}))

    # closing documents: the delivered shipment's UPD went out and is not signed yet
    for document in _ok(httpx.get(f"{api}/closing-documents", headers=auth)):
        _ok(httpx.post(f"{api}/closing-documents/{document['id']}/sent", headers=auth,
                       json={"sent_on": today.isoformat(), "number": "УПД-0042"}))
    _ok(httpx.post(f"{api}/received-documents", headers=auth, json={
        "client_id": second["client_id"], "kind": "invoice", "number": "77",
        "issued_on": (today - timedelta(days=2)).isoformat(), "amount": "7000.00",
        "received_on": today.isoformat()}))
    print("demo: logistics stock, shipments, documents and purchasing ready")
