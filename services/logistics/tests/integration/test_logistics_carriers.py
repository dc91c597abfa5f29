"""Each carrier's real httpx adapter against a local stand-in (127.0.0.1) that answers with
the carrier's documented shapes — including an error answer, a timeout and a bad callback
signature. Nothing leaves the machine."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import socket
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from clientops_shared.testing import eventually_async
from logistics.adapters.carriers import (
    BadSignature,
    CarrierError,
    CdekClient,
    DellinClient,
    DostavistaClient,
    ShipmentRequest,
)
from logistics.domain.model import CarrierStatus

pytestmark = pytest.mark.integration

DV = "/api/business/1.1"
CALLBACK_KEY = "dv-callback-key"
REQUEST = ShipmentRequest(number="ОТГ-2026/0001", from_address="Москва, БП Румянцево",
                          to_address="Москва, ул. Вавилова, 19", contact_name="Пётр",
                          contact_phone="+74951234567", matter="Шлагбаум × 1", weight_kg=80)


class StandIn:
    """Dostavista, CDEK and Delovye Linii as their documentation shows them."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, Any]] = []
        self.slow = False
        self.cdek_status = "CREATED"
        app = FastAPI()

        async def record(request: Request) -> Any:
            raw = await request.body()
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode()
            self.seen.append((request.method, request.url.path, body))
            if self.slow:
                await asyncio.sleep(1.0)
            return body

        # --- Dostavista business API
        def dv_auth(request: Request) -> JSONResponse | None:
            if request.headers.get("x-dv-auth-token") != "dv-token":
                return JSONResponse({"is_successful": False, "errors": ["invalid_auth_token"]},
                                    status_code=401)
            return None

        @app.post(f"{DV}/calculate-order")
        @app.post(f"{DV}/create-order")
        async def dv_order(request: Request) -> JSONResponse:
            body = await record(request)
            if (denied := dv_auth(request)) is not None:
                return denied
            if "ошибка" in body["points"][1]["address"]:
                return JSONResponse({"is_successful": False, "errors": ["invalid_parameters"],
                                     "parameter_errors": {"points": [None, {
                                         "address": ["address_not_found"]}]}},
                                    status_code=400)
            order = {"order_id": 51234, "status": "new", "payment_amount": "1350.00",
                     "vehicle_type_id": body["vehicle_type_id"],
                     "points": [{"address": p["address"],
                                 "tracking_url": "https://dostavista.ru/track/51234"}
                                for p in body["points"]]}
            return JSONResponse({"is_successful": True, "warnings": [],
                                 "parameter_warnings": {}, "order": order})

        @app.get(f"{DV}/orders")
        async def dv_orders(request: Request) -> JSONResponse:
            await record(request)
            order_id = request.query_params["order_id"]
            return JSONResponse({"is_successful": True, "orders": [
                {"order_id": int(order_id), "status": "completed"}] if order_id == "51234"
                else []})

        @app.get(f"{DV}/client")
        async def dv_client(request: Request) -> JSONResponse:
            await record(request)
            return JSONResponse({"is_successful": True,
                                 "client": {"client_id": 1, "balance_amount": "2500.00"}})

        # --- CDEK API v2
        @app.post("/v2/oauth/token")
        async def cdek_token(request: Request) -> JSONResponse:
            form = await request.form()
            self.seen.append(("POST", "/v2/oauth/token", dict(form)))
            if form.get("client_secret") != "cdek-secret":
                return JSONResponse({"error": "invalid_client",
                                     "error_description": "Bad credentials"}, status_code=401)
            return JSONResponse({"access_token": "cdek-jwt", "token_type": "bearer",
                                 "expires_in": 3599, "scope": "order:all", "jti": "j-1"})

        def cdek_auth(request: Request) -> bool:
            return request.headers.get("authorization") == "Bearer cdek-jwt"

        @app.post("/v2/calculator/tariff")
        async def cdek_tariff(request: Request) -> JSONResponse:
            body = await record(request)
            if not cdek_auth(request):
                return JSONResponse({"errors": [{"code": "v2_token_expired"}]}, status_code=401)
            if "ошибка" in body["to_location"]["address"]:
                return JSONResponse({"errors": [{"code": "ERR_CALCULATION",
                                                 "message": "Не удалось определить город"}]},
                                    status_code=400)
            return JSONResponse({"delivery_sum": 980.0, "period_min": 2, "period_max": 4,
                                 "weight_calc": 80000, "total_sum": 1176.0,
                                 "currency": "RUB"})

        @app.post("/v2/orders")
        async def cdek_create(request: Request) -> JSONResponse:
            await record(request)
            return JSONResponse({"entity": {"uuid": "72753031-3c87-4f3e-8b42-0c2a1f4d9e11"},
                                 "requests": [{"request_uuid": str(uuid.uuid4()),
                                               "type": "CREATE", "state": "ACCEPTED",
                                               "date_time": "2026-12-03T10:00:00+0300"}]},
                                status_code=202)

        @app.get("/v2/orders/{order_uuid}")
        async def cdek_order(order_uuid: str, request: Request) -> JSONResponse:
            await record(request)
            if order_uuid != "72753031-3c87-4f3e-8b42-0c2a1f4d9e11":
                return JSONResponse({"requests": [{"type": "GET", "state": "INVALID", "errors": [
                    {"code": "v2_entity_not_found", "message": "Order not found"}]}]},
                    status_code=404)
            return JSONResponse({"entity": {"uuid": order_uuid, "cdek_number": "1106321758",
                                            "statuses": [{"code": self.cdek_status,
                                                          "name": "статус",
                                                          "date_time": "2026-12-04T12:00:00+0300"},
                                                         {"code": "CREATED", "name": "Создан",
                                                          "date_time": "2026-12-03T10:00:00+0300"}
                                                         ]}, "requests": []})

        # --- Delovye Linii
        @app.post("/v3/auth/login.json")
        async def dellin_login(request: Request) -> JSONResponse:
            body = await record(request)
            if body.get("password") != "dl-password":
                return JSONResponse({"metadata": {"status": 401}, "errors": [
                    {"code": 110001, "title": "Неверный логин или пароль",
                     "detail": "auth failed"}]}, status_code=401)
            return JSONResponse({"metadata": {"status": 200},
                                 "data": {"sessionID": "00000000-DL-SESSION"}})

        def dellin_ok(body: dict[str, Any]) -> bool:
            return body.get("appkey") == "dl-appkey" and body.get(
                "sessionID") == "00000000-DL-SESSION"

        @app.post("/v2/calculator.json")
        @app.post("/v2/request.json")
        async def dellin_calc(request: Request) -> JSONResponse:
            body = await record(request)
            if not dellin_ok(body):
                return JSONResponse({"metadata": {"status": 401}, "errors": [
                    {"code": 110002, "title": "Сессия не найдена"}]}, status_code=401)
            if "ошибка" in body["delivery"]["arrival"]["address"]["search"]:
                return JSONResponse({"metadata": {"status": 400}, "errors": [
                    {"code": 180002, "title": "Неверно указаны параметры",
                     "detail": "Адрес не найден",
                     "fields": ["delivery.arrival.address.search"]}]}, status_code=400)
            if request.url.path.endswith("request.json"):
                return JSONResponse({"metadata": {"status": 200},
                                     "data": {"requestID": 12345678, "state": "success",
                                              "barcodes": ["2600000123"]}})
            return JSONResponse({"metadata": {"status": 200},
                                 "data": {"price": 5240.5, "priceMinimal": 5000,
                                          "orderDates": {"arrivalToOspReceiver": "2026-12-07"}}})

        @app.post("/v3/orders.json")
        async def dellin_orders(request: Request) -> JSONResponse:
            body = await record(request)
            return JSONResponse({"metadata": {"status": 200}, "orders": [
                {"orderId": body["docIds"][0], "state": "inway", "stateName": "В пути"}]})

        self.app = app


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)
    await eventually_async(started, timeout=10, interval=0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def carrier_api() -> AsyncIterator[tuple[StandIn, str]]:
    stand_in = StandIn()
    async with serving(stand_in.app) as url:
        yield stand_in, url


def _bad(request: ShipmentRequest) -> ShipmentRequest:
    return ShipmentRequest(**{**request.__dict__, "to_address": "ошибка в адресе"})


async def test_dostavista_quote_create_status_balance_and_signed_callback(
        carrier_api: tuple[StandIn, str]) -> None:
    stand_in, url = carrier_api
    dv = DostavistaClient(url + DV, "dv-token", CALLBACK_KEY, vehicle_type_id=7, timeout=0.3)
    assert (await dv.quote(REQUEST)).price == Decimal("1350.00")
    order = await dv.create(REQUEST)
    assert (order.order_id, order.status, order.tracking_url) == (
        "51234", CarrierStatus.CREATED, "https://dostavista.ru/track/51234")
    sent = stand_in.seen[-1][2]
    assert sent["vehicle_type_id"] == 7 and sent["client_order_id"] == "ОТГ-2026/0001"
    assert [p["address"] for p in sent["points"]] == [REQUEST.from_address, REQUEST.to_address]
    assert (await dv.status("51234")).status is CarrierStatus.DELIVERED
    assert await dv.balance() == Decimal("2500.00")

    body = json.dumps({"event_datetime": "2026-12-04T12:00:00+03:00",
                       "event_type": "order_changed",
                       "order": {"order_id": 51234, "status": "completed"}}).encode()
    good = hmac.new(CALLBACK_KEY.encode(), body, hashlib.sha256).hexdigest()
    report = await dv.callback(body, {"x-dv-signature": good})
    assert (report.order_id, report.status) == ("51234", CarrierStatus.DELIVERED)
    with pytest.raises(BadSignature):
        await dv.callback(body, {"x-dv-signature": "0" * 64})
    with pytest.raises(BadSignature):
        await dv.callback(body.replace(b"completed", b"canceled"), {"x-dv-signature": good})

    with pytest.raises(CarrierError, match="address_not_found"):
        await dv.quote(_bad(REQUEST))
    with pytest.raises(CarrierError, match="invalid_auth_token"):
        await DostavistaClient(url + DV, "wrong", CALLBACK_KEY).quote(REQUEST)
    stand_in.slow = True
    with pytest.raises(CarrierError, match="таймаут"):
        await dv.create(REQUEST)
    await dv.aclose()


async def test_cdek_oauth_tariff_order_status_and_unsigned_callback_reread(
        carrier_api: tuple[StandIn, str]) -> None:
    stand_in, url = carrier_api
    cdek = CdekClient(url, "cdek-account", "cdek-secret", timeout=0.3)
    quote = await cdek.quote(REQUEST)
    assert (quote.price, quote.days_min, quote.days_max) == (Decimal("1176.00"), 2, 4)
    assert stand_in.seen[0][2] == {"grant_type": "client_credentials",
                                   "client_id": "cdek-account", "client_secret": "cdek-secret"}
    order = await cdek.create(REQUEST)
    assert order.order_id == "72753031-3c87-4f3e-8b42-0c2a1f4d9e11"
    created = stand_in.seen[-1][2]
    assert created["tariff_code"] == 137 and created["recipient"]["phones"] == [
        {"number": REQUEST.contact_phone}]
    assert await cdek.tracking_number(order.order_id) == "1106321758"
    # one token for all the calls
    assert sum(1 for s in stand_in.seen if s[1] == "/v2/oauth/token") == 1

    # CDEK does not sign webhooks: a forged "DELIVERED" is checked against the API
    forged = json.dumps({"type": "ORDER_STATUS", "uuid": order.order_id,
                         "attributes": {"code": "DELIVERED"}}).encode()
    report = await cdek.callback(forged, {})
    assert report.status is CarrierStatus.CREATED and report.raw_status == "CREATED"
    stand_in.cdek_status = "DELIVERED"
    assert (await cdek.callback(forged, {})).status is CarrierStatus.DELIVERED
    with pytest.raises(CarrierError, match="v2_entity_not_found"):
        await cdek.callback(json.dumps({"type": "ORDER_STATUS", "uuid": "nope"}).encode(), {})

    with pytest.raises(CarrierError, match="Не удалось определить город"):
        await cdek.quote(_bad(REQUEST))
    with pytest.raises(CarrierError, match="401"):
        await CdekClient(url, "cdek-account", "wrong").quote(REQUEST)
    stand_in.slow = True
    with pytest.raises(CarrierError, match="таймаут"):
        await cdek.status(order.order_id)
    await cdek.aclose()


async def test_dellin_session_calculator_request_and_tracker(
        carrier_api: tuple[StandIn, str]) -> None:
    stand_in, url = carrier_api
    dl = DellinClient(url, "dl-appkey", "logist@example.ru", "dl-password", timeout=0.3)
    assert (await dl.quote(REQUEST)).price == Decimal("5240.50")
    calc = stand_in.seen[-1][2]
    assert calc["cargo"]["totalWeight"] == 80 and calc["delivery"]["deliveryType"] == {
        "type": "auto"}
    order = await dl.create(REQUEST)
    assert order.order_id == "12345678" and "12345678" in (order.tracking_url or "")
    report = await dl.status(order.order_id)
    assert (report.status, report.raw_status) == (CarrierStatus.IN_TRANSIT, "inway")
    assert sum(1 for s in stand_in.seen if s[1] == "/v3/auth/login.json") == 1
    with pytest.raises(CarrierError, match="уведомления не поддерживаются"):
        await dl.callback(b"{}", {})

    with pytest.raises(CarrierError, match="Неверно указаны параметры"):
        await dl.quote(_bad(REQUEST))
    with pytest.raises(CarrierError, match="Неверный логин или пароль"):
        await DellinClient(url, "dl-appkey", "x", "wrong").quote(REQUEST)
    stand_in.slow = True
    with pytest.raises(CarrierError, match="таймаут"):
        await dl.status(order.order_id)
    await dl.aclose()


async def test_service_takes_signed_callbacks_and_refuses_a_bad_signature(
        carrier_api: tuple[StandIn, str], logistics_db: str, open_logistics: Any) -> None:
    _, url = carrier_api
    async with open_logistics(logistics_db, dostavista_url=url + DV,
                              dostavista_token="dv-token",
                              dostavista_callback_key=CALLBACK_KEY) as lt:
        client_id = await lt.client_known()
        await lt.item("TERM-1", kind="terminal", tracking="count")
        await lt.receive("TERM-1", 2)
        r = await lt.post("/api/shipments", {"client_id": str(client_id),
                                             "site_id": str(uuid.uuid4()),
                                             "carrier": "dostavista",
                                             "lines": [{"item": "TERM-1", "quantity": 1}]})
        shipment_id = r.json()["id"]
        r = await lt.post(f"/api/shipments/{shipment_id}/quote")
        assert r.json()["price"] == "1350.00"
        r = await lt.post(f"/api/shipments/{shipment_id}/dispatch", {"shipped_on": "2026-12-03"})
        assert r.status_code == 200 and r.json()["tracking_number"] == "51234"

        body = json.dumps({"event_type": "order_changed",
                           "order": {"order_id": 51234, "status": "completed"}}).encode()
        r = await lt.client.post("/api/carriers/dostavista/callback", content=body,
                                 headers={"X-DV-Signature": "f" * 64})
        assert r.status_code == 401
        found = (await lt.get(f"/api/shipments/{shipment_id}")).json()
        assert found["carrier_status"] == "created"
        sig = hmac.new(CALLBACK_KEY.encode(), body, hashlib.sha256).hexdigest()
        r = await lt.client.post("/api/carriers/dostavista/callback", content=body,
                                 headers={"X-DV-Signature": sig})
        assert r.status_code == 200 and r.json()["known"] is True
        found = (await lt.get(f"/api/shipments/{shipment_id}")).json()
        assert found["carrier_status"] == "delivered"

        # the carrier failing is a 502 naming the carrier; the shipment stays planned
        r = await lt.post("/api/shipments", {"client_id": str(client_id),
                                             "site_id": str(uuid.uuid4()),
                                             "carrier": "dostavista",
                                             "address": "ошибка в адресе",
                                             "lines": [{"item": "TERM-1", "quantity": 1}]})
        second = r.json()["id"]
        r = await lt.post(f"/api/shipments/{second}/dispatch", {"shipped_on": "2026-12-03"})
        assert r.status_code == 502 and r.json()["carrier"] == "dostavista"
        assert (await lt.get(f"/api/shipments/{second}")).json()["status"] == "planned"
        assert await lt.balance("TERM-1") == {"on_hand": 1, "reserved": 1, "available": 0}
