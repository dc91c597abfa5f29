"""Exporting a period's clients, contracts and invoices to 1C (EnterpriseData message)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from billing.adapters import onec
from billing.adapters.orm import client_account, invoice, invoice_line, onec_export, subscription
from billing.domain.ledger import InvoiceKind, InvoiceStatus
from billing.domain.periods import Period
from billing.service_layer.unit_of_work import Billing
from clientops_shared.auth import Principal
from clientops_shared.errors import NotFound

log = logging.getLogger("billing.onec")
FORMAT = "EnterpriseData/1.8"


async def export_period(billing: Billing, port: onec.OneCExchange, actor: Principal,
                        period: Period) -> dict[str, Any]:
    """Build the message for a period's invoices in force, store it, deliver it to 1C."""
    settings = billing.settings
    org = onec.Organization(settings.company_name, settings.company_inn, settings.company_kpp)
    async with billing.engine.connect() as conn:
        rows = (await conn.execute(
            sa.select(invoice, client_account.c.name.label("client_name"),
                      client_account.c.inn.label("client_inn"),
                      subscription.c.starts_on.label("contract_starts_on"))
            .join(client_account, client_account.c.client_id == invoice.c.client_id)
            .join(subscription, subscription.c.contract_id == invoice.c.contract_id)
            .where(invoice.c.period == str(period), invoice.c.kind == str(InvoiceKind.INVOICE),
                   invoice.c.status != str(InvoiceStatus.CREDITED))
            .order_by(invoice.c.number))).mappings().all()
        lines = (await conn.execute(sa.select(invoice_line).where(
            invoice_line.c.invoice_id.in_([r["id"] for r in rows]))
            .order_by(invoice_line.c.invoice_id, invoice_line.c.position))).mappings().all()
        previous = (await conn.execute(sa.select(sa.func.count()).select_from(onec_export))
                    ).scalar_one()
    by_invoice: dict[uuid.UUID, list[onec.LineRecord]] = {}
    for line in lines:
        by_invoice.setdefault(line["invoice_id"], []).append(onec.LineRecord(
            line["description"], line["amount"], line["vat_rate"], line["vat"], line["total"]))
    clients = {r["client_id"]: onec.ClientRecord(str(r["client_id"]), r["client_name"],
                                                 r["client_inn"]) for r in rows}
    contracts = {r["contract_id"]: onec.ContractRecord(
        str(r["contract_id"]), r["contract_number"], str(r["client_id"]),
        r["contract_starts_on"]) for r in rows}
    invoices = [onec.InvoiceRecord(str(r["id"]), r["number"], r["issued_on"],
                                   str(r["client_id"]), str(r["contract_id"]), r["vat_mode"],
                                   r["total"], by_invoice.get(r["id"], [])) for r in rows]
    message_no = previous + 1
    body = onec.enterprise_data(org, clients.values(), contracts.values(), invoices,
                                message_no=message_no, created_at=datetime.now(UTC))
    name = f"Message_ClientOps_BP_{message_no}.xml"
    counts = {"clients": len(clients), "contracts": len(contracts), "invoices": len(invoices)}
    export_id = uuid.uuid4()
    async with billing.uow() as uow:
        await uow.session.execute(onec_export.insert().values(
            id=export_id, period=str(period), format=FORMAT, name=name,
            sha256=hashlib.sha256(body).hexdigest(), counts=counts, body=body,
            delivered=False, created_by=actor.username))
        uow.audit("onec.exported", "onec_export", export_id,
                  after={"period": str(period), **counts, "name": name})
        await uow.commit()
    try:
        await port.deliver(name, body)
        delivered, error = True, None
    except OSError as exc:
        log.warning("1C export %s not delivered: %s", name, exc)
        delivered, error = False, f"{type(exc).__name__}: {exc}"[:500]
    async with billing.engine.begin() as conn:
        await conn.execute(onec_export.update().where(onec_export.c.id == export_id).values(
            delivered=delivered, error=error))
    return {"id": export_id, "period": str(period), "format": FORMAT, "name": name,
            "counts": counts, "delivered": delivered, "error": error}


async def export_body(billing: Billing, export_id: uuid.UUID) -> tuple[str, bytes]:
    async with billing.engine.connect() as conn:
        row = (await conn.execute(sa.select(onec_export.c.name, onec_export.c.body).where(
            onec_export.c.id == export_id))).first()
    if row is None:
        raise NotFound(f"1C export {export_id} not found")
    return row.name, row.body
