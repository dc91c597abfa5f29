"""The month through the real producers: contracts signs, billing issues, mails, reminds and
takes the payment — notifications makes the work of it and mails the real PDF.

contracts, billing and notifications run in this process on the run's databases and vhost;
notifications fetches the invoice PDF from the real billing app through its HTTP adapter."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from clientops_shared.testing import eventually_async, running_app
from notifications.adapters.invoices import HttpInvoicePdfSource

pytestmark = pytest.mark.integration

MSK = ZoneInfo("Europe/Moscow")


def fresh_inn() -> str:
    """A valid 10-digit INN nobody in this run has (contracts refuses a duplicate)."""
    digits = [int(d) for d in f"77{uuid.uuid4().int % 10**7:07d}"]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


async def test_signing_invoicing_dunning_and_payment_drive_the_work_queue(
    servers: Any, service: Any, smtp: Any
) -> None:
    manager = f"mgr-{uuid.uuid4().hex[:6]}"
    as_manager = servers.auth(manager, "manager")
    desk = servers.auth("buh1", "billing")
    async with (running_app(servers, "contracts") as (_, contracts),
                running_app(servers, "billing") as (billing_app, billing),
                service(datetime(2026, 12, 1, 10, 0, tzinfo=MSK), smtp_port=smtp.port) as svc):
        svc.app.state.deps.invoices = HttpInvoicePdfSource(
            "http://billing", servers.jwt_secret,
            transport=httpx.ASGITransport(app=billing_app))
        address = f"buh-{uuid.uuid4().hex[:6]}@romashka.ru"
        r = await contracts.post("/api/clients", headers=as_manager, json={
            "name": "ООО «Ромашка»", "inn": fresh_inn(), "email": address, "manager": manager})
        assert r.status_code == 201, r.text
        client_id = r.json()["id"]
        r = await contracts.post("/api/contracts", headers=as_manager, json={
            "client_id": client_id, "kind": "subscription", "starts_on": "2026-12-01",
            "monthly_fee": "12500.00", "auto_renew": True, "standard": True})
        assert r.status_code == 201, r.text
        contract_id = r.json()["id"]
        r = await contracts.post(f"/api/contracts/{contract_id}/sign", headers=as_manager,
                                 json={"signed_on": "2026-12-01"})
        assert r.status_code == 200, r.text

        # signing: a welcome call for the client's manager
        async def welcome() -> list[dict[str, Any]]:
            return [t for t in await svc.tasks(client_id=client_id)
                    if t["kind"] == "welcome_call"]
        (call,) = await eventually_async(welcome, timeout=30)
        assert call["assignee"] == manager

        # the 15th: billing's run issues the invoice; notifications mails it with the PDF
        async def subscribed() -> bool:
            r = await billing.get("/api/subscriptions", headers=desk,
                                  params={"contract_id": contract_id})
            return r.status_code == 200 and len(r.json()) == 1
        await eventually_async(subscribed, timeout=30)
        svc.clock.set(datetime(2026, 12, 15, 9, 0, tzinfo=MSK))
        r = await billing.post("/api/invoice-runs", headers=desk, json={"period": "2026-12"})
        assert r.status_code == 200, r.text
        r = await billing.get("/api/invoices", headers=desk, params={"client_id": client_id})
        (invoice,) = r.json()

        async def queued() -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = await svc.rows(
                "SELECT state FROM mail_delivery WHERE client_id = :c AND template = "
                "'invoice_issued'", c=client_id)
            return rows
        await eventually_async(queued, timeout=30)
        await svc.run_job("mail-sender")
        (message,) = smtp.inbox.to(address)
        assert invoice["number"] in message["Subject"]
        (attachment,) = message.iter_attachments()
        pdf = attachment.get_content()
        assert pdf.startswith(b"%PDF") and attachment.get_content_type() == "application/pdf"
        r = await billing.get(f"/api/invoices/{invoice['id']}/pdf", headers=desk)
        assert r.content[:4] == b"%PDF" and len(pdf) > 1000

        # dunning from the due date: a call for the manager, with the amount on the call list
        # the first reminder day after the due date (billing's calendar and policy decide)
        reminded_on = max(date.fromisoformat(invoice["due_on"]), date(2026, 12, 21))
        svc.clock.set(datetime.combine(reminded_on, time(7), tzinfo=MSK))
        billing_app.state.billing.rules.today = lambda: reminded_on
        r = await billing.post("/api/dunning-runs", headers=desk,
                               json={"on": reminded_on.isoformat()})
        assert r.status_code == 200, r.text
        assert r.json()["reminded"] >= 1

        async def reminder() -> list[dict[str, Any]]:
            return [t for t in await svc.tasks(client_id=client_id, state="open")
                    if t["kind"] == "payment_reminder"]
        (task,) = await eventually_async(reminder, timeout=30)
        assert task["assignee"] == manager
        day = (await svc.http.get("/api/my/tasks", headers=as_manager, params={
            "at": datetime.combine(reminded_on, time(10), tzinfo=MSK).isoformat()})).json()
        (listed,) = [c for c in day["calls"] if c["client_id"] == client_id]
        assert listed["outstanding"] == invoice["total"] and listed["number"] == invoice["number"]

        # the payment: billing marks the invoice paid, the call closes by itself
        r = await billing.post("/api/payments", headers=desk, json={
            "invoice_id": invoice["id"], "amount": invoice["total"],
            "paid_on": reminded_on.isoformat(), "reference": "п/п 1"})
        assert r.status_code == 201, r.text

        async def closed() -> bool:
            return not await reminder()
        await eventually_async(closed, timeout=30)
        (done,) = [t for t in await svc.tasks(client_id=client_id)
                   if t["kind"] == "payment_reminder"]
        assert (done["state"], done["outcome"]) == ("cancelled", "paid")

        # the timeline has it all, from three services, in order
        r = await svc.http.get(f"/api/clients/{client_id}/timeline", headers=as_manager)
        types = [e["type"] for e in r.json()]
        for expected in ("contracts.client.registered", "contracts.contract.signed",
                         "billing.invoice.issued", "billing.invoice.overdue",
                         "billing.invoice.paid"):
            assert expected in types, types
        assert types.index("billing.invoice.issued") < types.index("billing.invoice.paid")
