"""Payables mirrored in PlanFact (real HTTP client against a local stand-in server) and the
export of a period to 1C (EnterpriseData message dropped in the exchange folder)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from clientops_shared.events import contracts as c
from clientops_shared.events import logistics as lg
from clientops_shared.testing import eventually_async

pytestmark = pytest.mark.integration

ED = "{http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.8}"


class StandIn:
    """A local PlanFact: records what it is sent, answers like PlanFact, can be made to fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None, str]] = []
        self.failing = False
        self.next_id = 100
        app = FastAPI()

        @app.api_route("/api/v1/operations/outcome", methods=["POST"])
        @app.api_route("/api/v1/operations/outcome/{op}", methods=["PUT"])
        @app.api_route("/api/v1/operations/{op}", methods=["DELETE"])
        async def operation(request: Request) -> JSONResponse:
            body = (await request.body()).decode()
            self.calls.append((request.method, request.url.path,
                               request.headers.get("x-apikey"), body))
            if self.failing:
                return JSONResponse({"isSuccess": False, "errorMessage": "maintenance"},
                                    status_code=503)
            self.next_id += 1
            op = request.path_params.get("op", str(self.next_id))
            return JSONResponse({"isSuccess": True, "data": {"operationId": int(op)}})

        self.app = app


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
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
async def planfact() -> AsyncIterator[tuple[StandIn, str]]:
    stand_in = StandIn()
    async with serving(stand_in.app) as url:
        yield stand_in, url


PAYABLE = {"supplier_name": "ООО Шлагбаумы Оптом", "supplier_inn": "7702070139",
           "number": "1187", "issued_on": "2026-12-10", "amount": "12000.00", "vat": "2163.93",
           "due_on": "2026-12-25", "category": "equipment",
           "description": "Шлагбаум DOORHAN, 2 шт."}


async def test_payables_flow_mirrored_in_planfact(billing_db: str, open_billing: Any,
                                                  planfact: tuple[StandIn, str]) -> None:
    stand_in, url = planfact
    async with open_billing(billing_db, planfact_url=url, planfact_api_key="key-1",
                            planfact_account_id="77") as b:
        r = await b.client.post("/api/payables", json=PAYABLE, headers=b.auth())
        assert r.status_code == 201, r.text
        payable = r.json()
        assert (payable["status"], payable["planfact_state"]) == ("received", "synced")
        method, path, key, body = stand_in.calls[0]
        assert (method, path, key) == ("POST", "/api/v1/operations/outcome", "key-1")
        assert '"value": 12000.00' in body  # an exact number, not a float or a string
        sent = json.loads(body)
        assert (sent["isCommitted"], sent["operationDate"], sent["accountId"]) == (
            False, "2026-12-25", "77")
        assert sent["contrAgentInn"] == "7702070139" and "1187" in sent["comment"]

        pid = payable["id"]
        r = await b.client.post(f"/api/payables/{pid}/approve", headers=b.auth())
        assert r.status_code == 403  # approval is the head's or accounting's
        r = await b.client.post(f"/api/payables/{pid}/payment-request", headers=b.auth())
        assert r.status_code == 409 and r.json()["current_state"] == "received"
        r = await b.client.post(f"/api/payables/{pid}/approve", headers=b.auth("head1", "head"))
        assert r.json()["status"] == "approved"
        r = await b.client.post(f"/api/payables/{pid}/payment-request", headers=b.auth())
        assert r.json()["status"] == "payment_requested"
        r = await b.client.post(f"/api/payables/{pid}/paid", json={"paid_on": "2026-12-24"},
                                headers=b.auth("acc1", "accountant"))
        paid = r.json()
        assert (paid["status"], paid["paid_on"], paid["planfact_state"]) == (
            "paid", "2026-12-24", "synced")
        method, path, _, body = stand_in.calls[-1]
        assert (method, path) == ("PUT", f"/api/v1/operations/outcome/"
                                         f"{payable['planfact_operation_id']}")
        assert json.loads(body)["isCommitted"] is True
        assert json.loads(body)["operationDate"] == "2026-12-24"
        assert await b.scalar("SELECT count(*) FROM outbox_message WHERE routing_key IN "
                              "('billing.payable.payment_requested', 'billing.payable.paid')") == 2

        # PlanFact down: the desk is not blocked, the sync waits and is retried
        stand_in.failing = True
        r = await b.client.post("/api/payables", json={**PAYABLE, "number": "1188"},
                                headers=b.auth())
        assert r.status_code == 201
        assert (r.json()["planfact_state"], r.json()["planfact_error"]) == (
            "failed", "PlanFact answered 503: maintenance")
        stand_in.failing = False
        r = await b.client.post("/api/payables/planfact-sync", headers=b.auth())
        assert r.json() == {"synced": 1}
        r = await b.client.get("/api/payables", params={"status": "received"},
                               headers=b.auth())
        (waiting,) = r.json()
        assert waiting["planfact_state"] == "synced" and waiting["planfact_operation_id"]

        r = await b.client.post(f"/api/payables/{waiting['id']}/reject",
                                json={"reason": "дороже, чем у другого поставщика"},
                                headers=b.auth("head1", "head"))
        assert r.json()["status"] == "rejected" and r.json()["planfact_operation_id"] is None
        assert stand_in.calls[-1][:2] == ("DELETE", f"/api/v1/operations/"
                                                    f"{waiting['planfact_operation_id']}")

        r = await b.client.post("/api/payables", json=PAYABLE, headers=b.auth())
        assert r.status_code == 409
        r = await b.client.post("/api/payables", json={**PAYABLE, "number": "9",
                                                       "vat": "13000.00"}, headers=b.auth())
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "vat"


async def test_period_exported_to_1c_as_enterprise_data(billing_db: str, open_billing: Any,
                                                        tmp_path: Path) -> None:
    async with open_billing(billing_db, onec_exchange_dir=str(tmp_path)) as b:
        sber = b.signed("2026-0001", inn="7707083893", name="ПАО СБЕРБАНК")
        yandex = b.signed("2026-0002", inn="7736207543", vat_mode="exempt",
                          name='ООО "ЯНДЕКС"')
        await b.deliver(sber, yandex)
        b.billing.rules.today = lambda: date(2026, 12, 15)
        await b.client.post("/api/invoice-runs", json={"period": "2026-12"}, headers=b.auth())
        # a correction: the export carries the invoice in force, not the cancelled one
        await b.deliver(c.ContractAmended(
            contract_id=sber.contract_id, number=sber.number, client_id=sber.client_id,
            amendment_id=uuid.uuid4(), kind="fee_change", effective_on=date(2026, 12, 16),
            monthly_fee="15000.00"))

        r = await b.client.post("/api/onec/exports", json={"period": "2026-12"},
                                headers=b.auth("acc1", "accountant"))
        assert r.status_code == 201, r.text
        export = r.json()
        assert (export["counts"], export["delivered"], export["name"]) == (
            {"clients": 2, "contracts": 2, "invoices": 2}, True, "Message_ClientOps_BP_1.xml")
        files = await asyncio.to_thread(lambda: sorted(p.name for p in tmp_path.iterdir()))
        assert files == ["Message_ClientOps_BP_1.xml"]  # no partial file left behind
        dropped = await asyncio.to_thread((tmp_path / files[0]).read_bytes)
        r = await b.client.get(f"/api/onec/exports/{export['id']}/xml", headers=b.auth())
        assert r.content == dropped

        root = ET.fromstring(dropped)
        body = root.find(f"{ED}Body")
        assert body is not None
        parties = {p.findtext(f"{ED}КлючевыеСвойства/{ED}ИНН")
                   for p in body.findall(f"{ED}Справочник.Контрагенты")}
        assert parties == {"7707083893", "7736207543"}
        invoices = {d.findtext(f"{ED}КлючевыеСвойства/{ED}Номер"): d
                    for d in body.findall(f"{ED}Документ.СчетНаОплатуПокупателю")}
        assert set(invoices) == {"СЧ-2026-12-0002", "СЧ-2026-12-0003"}  # 0001 was credited
        corrected = invoices["СЧ-2026-12-0003"]
        assert corrected.findtext(f"{ED}Сумма") == "16824.21"
        rows = corrected.findall(f"{ED}Услуги/{ED}Строка")
        assert [(x.findtext(f"{ED}Сумма"), x.findtext(f"{ED}СтавкаНДС"),
                 x.findtext(f"{ED}СуммаНДС")) for x in rows] == [
            ("6048.39", "НДС22", "1330.65"), ("7741.94", "НДС22", "1703.23")]
        exempt = invoices["СЧ-2026-12-0002"].find(f"{ED}Услуги/{ED}Строка")
        assert exempt is not None and exempt.findtext(f"{ED}СтавкаНДС") == "БезНДС"
        assert corrected.findtext(f"{ED}ДанныеВзаиморасчетов/{ED}Договор/{ED}Номер") == (
            "2026-0001")
        r = await b.client.post("/api/onec/exports", json={"period": "2026-12"},
                                headers=b.auth("manager1", "manager"))
        assert r.status_code == 403


async def test_a_supplier_invoice_recorded_at_logistics_becomes_one_payable(bt: Any) -> None:
    recorded = lg.SupplierInvoiceRecorded(
        purchase_order_id=uuid.uuid4(), order_number="ЗП-2026/0007",
        supplier_name="ООО Шлагбаумы", supplier_inn="7707083893", number="С-311",
        issued_on=date(2026, 12, 10), amount=Decimal("120000.00"), vat=Decimal("21639.34"),
        due_on=date(2026, 12, 20), category="equipment", description="Шлагбаум BS-6")
    await bt.deliver(recorded, producer="logistics")
    await bt.deliver(recorded.model_copy(), producer="logistics")  # the same invoice again
    r = await bt.client.get("/api/payables", params={"status": "received"}, headers=bt.auth())
    assert r.status_code == 200, r.text
    mine = [p for p in r.json() if p["number"] == "С-311"]
    assert len(mine) == 1
    assert (mine[0]["amount"], mine[0]["category"], mine[0]["supplier_inn"]) == (
        "120000.00", "equipment", "7707083893")
    assert "ЗП-2026/0007" in mine[0]["description"]
