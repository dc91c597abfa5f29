"""Carriers behind one port: quote, create an order, ask its status, check a callback, and
(for the prepaid courier account) the balance.

Real adapters speak each carrier's documented HTTP API with httpx:

- Dostavista business API (``X-DV-Auth-Token``; ``POST calculate-order``, ``POST create-order``,
  ``GET orders?order_id=``, ``GET client``; callbacks signed with ``X-DV-Signature`` =
  HMAC-SHA256 hex of the raw body with the callback key). The large-vehicle carrier is the
  same API with a truck ``vehicle_type_id``.
- CDEK API v2 (OAuth client credentials at ``/v2/oauth/token``; ``POST /v2/calculator/tariff``,
  ``POST /v2/orders``, ``GET /v2/orders/{uuid}``; ``ORDER_STATUS`` webhooks are not signed, so a
  callback only names the order and its status is re-read from the API).
- Delovye Linii (``appkey`` + ``sessionID`` from ``/v3/auth/login.json``;
  ``/v2/calculator.json``, ``/v2/request.json``, ``/v3/orders.json``; no callbacks: polled).

The fake keeps orders in memory and lets tests move them along.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import httpx

from clientops_shared.jobs import business_today
from logistics.domain.model import CarrierStatus


class CarrierError(Exception):
    """The carrier refused, failed or did not answer in time; the message says which."""


class BadSignature(CarrierError):
    """A callback whose signature does not match: never trusted."""


@dataclass(frozen=True)
class ShipmentRequest:
    number: str
    from_address: str
    to_address: str
    contact_name: str
    contact_phone: str
    matter: str
    weight_kg: int = 10
    packages: int = 1
    ships_on: date | None = None


@dataclass(frozen=True)
class Quote:
    price: Decimal
    days_min: int | None = None
    days_max: int | None = None


@dataclass(frozen=True)
class CarrierOrder:
    order_id: str
    status: CarrierStatus
    raw_status: str
    tracking_number: str | None = None
    tracking_url: str | None = None
    price: Decimal | None = None


@dataclass(frozen=True)
class StatusReport:
    order_id: str
    status: CarrierStatus
    raw_status: str


class CarrierPort(Protocol):
    code: str
    signs_callbacks: bool

    async def quote(self, request: ShipmentRequest) -> Quote: ...

    async def create(self, request: ShipmentRequest) -> CarrierOrder: ...

    async def status(self, order_id: str) -> StatusReport: ...

    async def callback(self, body: bytes, headers: Mapping[str, str]) -> StatusReport:
        """Check the callback and return what it says (re-read from the API if unsigned)."""
        ...

    async def balance(self) -> Decimal | None: ...


def _money(value: Any, what: str) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise CarrierError(f"{what}: не сумма: {value!r}") from None


class _Http:
    """One httpx client per adapter; every failure becomes a CarrierError in Russian."""

    name = "перевозчик"

    def __init__(self, base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None
                 ) -> None:
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/") + "/", timeout=timeout,
                                         transport=transport)

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise CarrierError(f"{self.name}: нет ответа (таймаут)") from None
        except httpx.HTTPError as exc:
            raise CarrierError(f"{self.name}: связь не удалась: {exc}") from None
        try:
            data = response.json()
        except ValueError:
            raise CarrierError(f"{self.name}: ответ {response.status_code} не JSON") from None
        self._check(response.status_code, data)
        return data

    def _check(self, status_code: int, data: Any) -> None:
        if status_code >= 400:
            raise CarrierError(f"{self.name}: ошибка {status_code}: {str(data)[:300]}")

    async def aclose(self) -> None:
        await self._client.aclose()


# --- Dostavista --------------------------------------------------------------------------------

DOSTAVISTA_STATUSES = {
    "new": CarrierStatus.CREATED, "available": CarrierStatus.CREATED,
    "draft": CarrierStatus.CREATED, "active": CarrierStatus.IN_TRANSIT,
    "reactivated": CarrierStatus.IN_TRANSIT, "courier_assigned": CarrierStatus.COURIER_ASSIGNED,
    "completed": CarrierStatus.DELIVERED, "canceled": CarrierStatus.CANCELLED,
    "delayed": CarrierStatus.PROBLEM,
}


class DostavistaClient(_Http):
    name = "Достависта"
    signs_callbacks = True

    def __init__(self, base_url: str, token: str, callback_key: str, *, code: str = "dostavista",
                 vehicle_type_id: int = 7, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(base_url, timeout, transport)
        self.code = code
        self._headers = {"X-DV-Auth-Token": token}
        self._callback_key = callback_key.encode()
        self._vehicle = vehicle_type_id

    def _check(self, status_code: int, data: Any) -> None:
        if status_code >= 400 or not isinstance(data, dict) or not data.get("is_successful"):
            errors = data.get("errors") if isinstance(data, dict) else None
            params = data.get("parameter_errors") if isinstance(data, dict) else None
            raise CarrierError(f"{self.name}: ошибка {status_code}: {errors or ''} "
                               f"{params or ''}".strip())

    def _body(self, request: ShipmentRequest) -> dict[str, Any]:
        return {
            "matter": request.matter[:200], "vehicle_type_id": self._vehicle,
            "total_weight_kg": request.weight_kg, "client_order_id": request.number,
            "points": [
                {"address": request.from_address,
                 "contact_person": {"phone": request.contact_phone, "name": "Склад"}},
                {"address": request.to_address,
                 "contact_person": {"phone": request.contact_phone,
                                    "name": request.contact_name}},
            ],
        }

    async def quote(self, request: ShipmentRequest) -> Quote:
        data = await self._call("POST", "calculate-order", json=self._body(request),
                                headers=self._headers)
        return Quote(_money(data["order"]["payment_amount"], self.name), 0, 1)

    async def create(self, request: ShipmentRequest) -> CarrierOrder:
        data = await self._call("POST", "create-order", json=self._body(request),
                                headers=self._headers)
        order = data["order"]
        points = order.get("points") or [{}]
        raw = str(order.get("status", "new"))
        return CarrierOrder(order_id=str(order["order_id"]),
                            status=DOSTAVISTA_STATUSES.get(raw, CarrierStatus.CREATED),
                            raw_status=raw, tracking_number=str(order["order_id"]),
                            tracking_url=points[-1].get("tracking_url"),
                            price=_money(order.get("payment_amount", "0"), self.name))

    async def status(self, order_id: str) -> StatusReport:
        data = await self._call("GET", "orders", params={"order_id": order_id},
                                headers=self._headers)
        orders = data.get("orders") or []
        if not orders:
            raise CarrierError(f"{self.name}: заказ {order_id} не найден")
        raw = str(orders[0]["status"])
        return StatusReport(order_id, DOSTAVISTA_STATUSES.get(raw, CarrierStatus.PROBLEM), raw)

    async def callback(self, body: bytes, headers: Mapping[str, str]) -> StatusReport:
        given = headers.get("x-dv-signature", "")
        expected = hmac.new(self._callback_key, body, hashlib.sha256).hexdigest()
        if not given or not hmac.compare_digest(given, expected):
            raise BadSignature(f"{self.name}: подпись уведомления не совпала")
        try:
            order = json.loads(body)["order"]
            raw = str(order["status"])
            return StatusReport(str(order["order_id"]),
                                DOSTAVISTA_STATUSES.get(raw, CarrierStatus.PROBLEM), raw)
        except (ValueError, KeyError, TypeError):
            raise CarrierError(f"{self.name}: уведомление без заказа") from None

    async def balance(self) -> Decimal | None:
        data = await self._call("GET", "client", headers=self._headers)
        client = data.get("client") or {}
        value = client.get("balance_amount", client.get("balance"))
        return None if value is None else _money(value, self.name)


# --- CDEK --------------------------------------------------------------------------------------

CDEK_STATUSES = {
    "ACCEPTED": CarrierStatus.CREATED, "CREATED": CarrierStatus.CREATED,
    "RECEIVED_AT_SHIPMENT_WAREHOUSE": CarrierStatus.IN_TRANSIT,
    "READY_TO_SHIP_AT_SENDING_OFFICE": CarrierStatus.IN_TRANSIT,
    "SENT_TO_TRANSIT_CITY": CarrierStatus.IN_TRANSIT,
    "ACCEPTED_AT_TRANSIT_WAREHOUSE": CarrierStatus.IN_TRANSIT,
    "SENT_TO_RECIPIENT_CITY": CarrierStatus.IN_TRANSIT,
    "ACCEPTED_AT_RECIPIENT_CITY_WAREHOUSE": CarrierStatus.IN_TRANSIT,
    "TAKEN_BY_COURIER": CarrierStatus.COURIER_ASSIGNED,
    "DELIVERED": CarrierStatus.DELIVERED, "NOT_DELIVERED": CarrierStatus.PROBLEM,
    "INVALID": CarrierStatus.PROBLEM, "REMOVED": CarrierStatus.CANCELLED,
}


class CdekClient(_Http):
    name = "СДЭК"
    code = "cdek"
    signs_callbacks = False

    def __init__(self, base_url: str, client_id: str, client_secret: str, *,
                 tariff_code: int = 137, from_city_code: int = 44, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(base_url, timeout, transport)
        self._credentials = {"grant_type": "client_credentials", "client_id": client_id,
                             "client_secret": client_secret}
        self._tariff = tariff_code
        self._from_city = from_city_code
        self._token: tuple[str, float] | None = None

    def _check(self, status_code: int, data: Any) -> None:
        errors = data.get("errors") if isinstance(data, dict) else None
        if status_code >= 400 or errors:
            text = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors or []
                             if isinstance(e, dict))
            raise CarrierError(f"{self.name}: ошибка {status_code}: {text or str(data)[:300]}")

    async def _auth(self) -> dict[str, str]:
        if self._token is None or self._token[1] < time.monotonic():
            data = await self._call("POST", "v2/oauth/token", data=self._credentials)
            self._token = (data["access_token"],
                           time.monotonic() + float(data.get("expires_in", 3600)) - 60)
        return {"Authorization": f"Bearer {self._token[0]}"}

    def _packages(self, request: ShipmentRequest) -> list[dict[str, Any]]:
        per = max(1, request.weight_kg * 1000 // max(request.packages, 1))
        return [{"number": f"{request.number}-{i + 1}", "weight": per, "length": 60,
                 "width": 40, "height": 40, "comment": request.matter[:255]}
                for i in range(request.packages)]

    async def quote(self, request: ShipmentRequest) -> Quote:
        data = await self._call("POST", "v2/calculator/tariff", headers=await self._auth(), json={
            "tariff_code": self._tariff, "from_location": {"code": self._from_city,
                                                            "address": request.from_address},
            "to_location": {"address": request.to_address},
            "packages": self._packages(request)})
        return Quote(_money(data.get("total_sum", data.get("delivery_sum")), self.name),
                     data.get("period_min"), data.get("period_max"))

    async def create(self, request: ShipmentRequest) -> CarrierOrder:
        data = await self._call("POST", "v2/orders", headers=await self._auth(), json={
            "type": 1, "number": request.number, "tariff_code": self._tariff,
            "comment": request.matter[:255],
            "from_location": {"code": self._from_city, "address": request.from_address},
            "to_location": {"address": request.to_address},
            "recipient": {"name": request.contact_name,
                          "phones": [{"number": request.contact_phone}]},
            "packages": self._packages(request)})
        uuid_ = data["entity"]["uuid"]
        states = [r.get("state") for r in data.get("requests") or []]
        if "INVALID" in states:
            raise CarrierError(f"{self.name}: заказ отклонён: {data.get('requests')}")
        return CarrierOrder(order_id=uuid_, status=CarrierStatus.CREATED, raw_status="ACCEPTED",
                            tracking_number=None,
                            tracking_url=None)

    async def status(self, order_id: str) -> StatusReport:
        data = await self._call("GET", f"v2/orders/{order_id}", headers=await self._auth())
        statuses = data["entity"].get("statuses") or [{"code": "ACCEPTED"}]
        # CDEK lists the newest status first
        raw = str(statuses[0]["code"])
        return StatusReport(order_id, CDEK_STATUSES.get(raw, CarrierStatus.IN_TRANSIT), raw)

    async def tracking_number(self, order_id: str) -> str | None:
        data = await self._call("GET", f"v2/orders/{order_id}", headers=await self._auth())
        number = data["entity"].get("cdek_number")
        return None if number is None else str(number)

    async def callback(self, body: bytes, headers: Mapping[str, str]) -> StatusReport:
        try:
            payload = json.loads(body)
            order_id = str(payload["uuid"]) if payload.get("type") == "ORDER_STATUS" else None
        except (ValueError, KeyError, TypeError):
            order_id = None
        if order_id is None:
            raise CarrierError(f"{self.name}: уведомление без заказа")
        # unsigned: trust only what the API itself says about this order
        return await self.status(order_id)

    async def balance(self) -> Decimal | None:
        return None


# --- Delovye Linii -----------------------------------------------------------------------------

DELLIN_STATUSES = {
    "processing": CarrierStatus.CREATED, "pickup": CarrierStatus.COURIER_ASSIGNED,
    "waiting": CarrierStatus.CREATED, "received": CarrierStatus.IN_TRANSIT,
    "received_warehousing": CarrierStatus.IN_TRANSIT, "inway": CarrierStatus.IN_TRANSIT,
    "arrived": CarrierStatus.IN_TRANSIT, "warehousing": CarrierStatus.IN_TRANSIT,
    "delivery": CarrierStatus.COURIER_ASSIGNED, "finished": CarrierStatus.DELIVERED,
    "accepting": CarrierStatus.DELIVERED, "canceled": CarrierStatus.CANCELLED,
    "declined": CarrierStatus.CANCELLED,
}


class DellinClient(_Http):
    name = "Деловые Линии"
    code = "dellin"
    signs_callbacks = False

    def __init__(self, base_url: str, appkey: str, login: str, password: str, *,
                 timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(base_url, timeout, transport)
        self._appkey, self._login, self._password = appkey, login, password
        self._session: str | None = None

    def _check(self, status_code: int, data: Any) -> None:
        errors = data.get("errors") if isinstance(data, dict) else None
        meta = data.get("metadata", {}) if isinstance(data, dict) else {}
        if status_code >= 400 or errors or int(meta.get("status", 200)) >= 400:
            text = "; ".join(f"{e.get('title') or e.get('code')}: {e.get('detail', '')}"
                             for e in (errors if isinstance(errors, list) else [])
                             if isinstance(e, dict))
            raise CarrierError(f"{self.name}: ошибка {status_code}: {text or str(data)[:300]}")

    async def _session_id(self) -> str:
        if self._session is None:
            data = await self._call("POST", "v3/auth/login.json", json={
                "appkey": self._appkey, "login": self._login, "password": self._password})
            self._session = str(data["data"]["sessionID"])
        return self._session

    async def _request_body(self, request: ShipmentRequest) -> dict[str, Any]:
        produce = (request.ships_on or business_today() + timedelta(days=1)).isoformat()
        return {
            "appkey": self._appkey, "sessionID": await self._session_id(),
            "delivery": {
                "deliveryType": {"type": "auto"},
                "derival": {"produceDate": produce, "variant": "address",
                            "address": {"search": request.from_address},
                            "time": {"worktimeStart": "09:00", "worktimeEnd": "18:00"}},
                "arrival": {"variant": "address", "address": {"search": request.to_address},
                            "time": {"worktimeStart": "09:00", "worktimeEnd": "18:00"}},
            },
            "cargo": {"quantity": request.packages, "length": 0.6, "width": 0.4,
                      "height": 0.4, "totalVolume": round(0.096 * request.packages, 3),
                      "totalWeight": request.weight_kg, "freightName": request.matter[:100]},
            "members": {"receiver": {"contactPersons": [{"name": request.contact_name}],
                                     "phoneNumbers": [{"number": request.contact_phone}]}},
        }

    async def quote(self, request: ShipmentRequest) -> Quote:
        data = await self._call("POST", "v2/calculator.json",
                                json=await self._request_body(request))
        result = data["data"]
        return Quote(_money(result["price"], self.name))

    async def create(self, request: ShipmentRequest) -> CarrierOrder:
        data = await self._call("POST", "v2/request.json", json=await self._request_body(request))
        result = data["data"]
        if result.get("state") not in (None, "success"):
            raise CarrierError(f"{self.name}: заявка не принята: {result}")
        request_id = str(result["requestID"])
        return CarrierOrder(order_id=request_id, status=CarrierStatus.CREATED,
                            raw_status="processing", tracking_number=request_id,
                            tracking_url=f"https://www.dellin.ru/tracker/orders/{request_id}/")

    async def status(self, order_id: str) -> StatusReport:
        data = await self._call("POST", "v3/orders.json", json={
            "appkey": self._appkey, "sessionID": await self._session_id(),
            "docIds": [order_id]})
        orders = data.get("orders") or []
        if not orders:
            raise CarrierError(f"{self.name}: заказ {order_id} не найден")
        raw = str(orders[0].get("state", "processing"))
        return StatusReport(order_id, DELLIN_STATUSES.get(raw, CarrierStatus.IN_TRANSIT), raw)

    async def callback(self, body: bytes, headers: Mapping[str, str]) -> StatusReport:
        raise CarrierError(f"{self.name}: уведомления не поддерживаются, статус опрашивается")

    async def balance(self) -> Decimal | None:
        return None


# --- the fake ----------------------------------------------------------------------------------

@dataclass
class FakeCarrier:
    """In-memory carrier for development and tests; ``advance`` moves an order along."""

    code: str
    price: Decimal = Decimal("1500.00")
    signs_callbacks: bool = False
    account_balance: Decimal | None = None
    orders: dict[str, StatusReport] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    async def quote(self, request: ShipmentRequest) -> Quote:
        return Quote(self.price, 1, 3)

    async def create(self, request: ShipmentRequest) -> CarrierOrder:
        order_id = f"{self.code.upper()}-{next(self._ids)}"
        self.orders[order_id] = StatusReport(order_id, CarrierStatus.CREATED, "created")
        return CarrierOrder(order_id, CarrierStatus.CREATED, "created", tracking_number=order_id,
                            price=self.price)

    def advance(self, order_id: str, status: CarrierStatus) -> None:
        self.orders[order_id] = StatusReport(order_id, status, str(status))

    async def status(self, order_id: str) -> StatusReport:
        if order_id not in self.orders:
            raise CarrierError(f"{self.code}: заказ {order_id} не найден")
        return self.orders[order_id]

    async def callback(self, body: bytes, headers: Mapping[str, str]) -> StatusReport:
        try:
            order_id = str(json.loads(body)["order_id"])
        except (ValueError, KeyError, TypeError):
            raise CarrierError(f"{self.code}: уведомление без заказа") from None
        return await self.status(order_id)

    async def balance(self) -> Decimal | None:
        return self.account_balance
