"""The client card: one view across every function (contracts, billing, tasks, timeline)."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.desks.contracts import FLASH
from web.entrypoints.pages.framework import CurrentViewer, panel, panels, render

router = APIRouter(prefix="/clients", include_in_schema=False)

UNPAID = frozenset({"issued", "overdue", "partially_paid", "unpaid", "open"})


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
    services = viewer.services
    cid = str(client_id)
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
    scans = await panels(**{
        str(c["id"]): services.get("contracts", f"/api/contracts/{c['id']}/scans")
        for c in (parts["contracts"].data or [])})
    parts["balance"] = await panel(
        services.get("billing", f"/api/clients/{cid}/balance"), empty={})
    parts["timeline"] = await panel(
        services.get("notifications", f"/api/clients/{cid}/timeline", limit=200), empty=[])
    if parts["timeline"].ok:
        parts["timeline"].data = sorted(parts["timeline"].data, key=lambda e: e["at"],
                                        reverse=True)
    contract_numbers = {c["id"]: c["number"] for c in (parts["contracts"].data or [])}
    money = balance(parts["invoices"].data or []) if parts["invoices"].ok else None
    return render(request, "desks/clients/card.html", {
        "client": client, "p": parts, "balance": money, "scans": scans,
        "contract_numbers": contract_numbers,
        "may_sign": viewer.has_role("manager", "head", "lawyer", "sales"),
        "may_pay": viewer.has_role("billing", "accountant", "head"),
        "flash": FLASH.get(request.query_params.get("flash", ""))})
