"""Site rent, payables (with PlanFact) and the 1C export: the billing desk's back office."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from billing import views
from billing.adapters import xlsx
from billing.domain.payables import PayableStatus
from billing.domain.periods import Period
from billing.domain.rent import PaymentForm
from billing.entrypoints.api import schemas
from billing.entrypoints.api.deps import DESK_ROLES, BillingDep, Desk, Limit, Offset, UoW
from billing.service_layer import onec, payables, rent
from clientops_shared.auth import Principal, require_roles
from clientops_shared.errors import InvalidInput, NotFound
from clientops_shared.http import XLSX, file_responses
from clientops_shared.paging import total_header
from clientops_shared.runtime import runtime_of
from clientops_shared.types import BoundedDate

router = APIRouter(prefix="/api")

Approver = Annotated[Principal, Depends(require_roles("head", "accountant"))]
"""Payment permissions and approvals: the head or accounting."""
Accounting = Annotated[Principal, Depends(require_roles(*DESK_ROLES))]


def _period(value: str) -> Period:
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise InvalidInput("period", str(exc)) from None


# --- rent agreements ----------------------------------------------------------------------------

@router.post("/rent/agreements", status_code=201, response_model=schemas.RentAgreementOut)
async def create_agreement(body: schemas.RentAgreementIn, actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await rent.create_agreement(uow, actor, **body.model_dump())


@router.get("/rent/agreements", response_model=list[schemas.RentAgreementRowOut])
async def list_agreements(request: Request, response: Response, actor: Desk,
                          billing: BillingDep, on: BoundedDate | None = None, q: str | None = None,
                          owner_inn: str | None = None, site_id: uuid.UUID | None = None,
                          payment_form: PaymentForm | None = None, limit: Limit = 50,
                          offset: Offset = 0) -> Any:
    """Agreements by site owner, each with the terms in force on ``on`` (default: today):
    terminals, amount per terminal, the month's amount, cash or cashless. ``q`` searches the
    number, owner, site and address (and an INN prefix); X-Total-Count has the total."""
    async with runtime_of(request).sessions() as session:
        total, rows = await views.rent_agreements(
            session, on=on or billing.today(), q=q, owner_inn=owner_inn, site_id=site_id,
            payment_form=str(payment_form) if payment_form else None, limit=limit,
            offset=offset)
    total_header(response, total)
    return rows


@router.get("/rent/agreements/{agreement_id}/changes",
            response_model=list[schemas.RentChangeOut])
async def list_agreement_changes(agreement_id: uuid.UUID, request: Request, actor: Desk
                                 ) -> Any:
    """The agreement's dated terms, oldest first, with the note and who recorded each."""
    async with runtime_of(request).sessions() as session:
        return await views.rent_changes(session, agreement_id)


@router.get("/rent/agreements/{agreement_id}", response_model=schemas.RentAgreementOut)
async def get_agreement(agreement_id: uuid.UUID, actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await rent.agreement(uow, agreement_id)


@router.post("/rent/agreements/{agreement_id}/changes", status_code=201,
             response_model=schemas.RentAgreementOut)
async def change_agreement(agreement_id: uuid.UUID, body: schemas.RentChangeIn, actor: Desk,
                           uow: UoW) -> Any:
    """A dated change: terminals added or removed, a new amount, cash or cashless."""
    async with uow:
        await rent.change_terms(uow, actor.username, agreement_id, **body.model_dump())
        await uow.commit()
        return await rent.agreement(uow, agreement_id)


@router.get("/rent/registry", response_model=schemas.RegistryOut,
            responses=file_responses(XLSX))
async def rent_registry(actor: Desk, uow: UoW,
                        period: Annotated[str, Query(examples=["2027-01"])],
                        format: Literal["json", "xlsx"] = "json") -> Any:
    """The cashless payout registry for a month (usually the next one)."""
    p = _period(period)
    async with uow:
        found = await rent.registry(uow, p)
    if format == "xlsx":
        data = xlsx.workbook(
            f"rent-{p}", ["Договор", "Получатель", "ИНН", "Счёт", "БИК", "Банк", "Объект",
                          "Сумма", "Назначение платежа"],
            [[r["number"], r["owner_name"], r["owner_inn"], r["owner_account"], r["owner_bic"],
              r["owner_bank"], r["site_name"], Decimal(r["amount"]), r["purpose"]]
             for r in found["rows"]], money_columns=[7])
        return Response(data, media_type=xlsx.XLSX, headers={
            "Content-Disposition": f'attachment; filename="rent-registry-{p}.xlsx"'})
    return found


@router.get("/rent/registries", response_model=list[schemas.RegistrySummaryOut])
async def list_registries(request: Request, actor: Desk, limit: Limit = 24) -> Any:
    """Registries past the draft (sent, reconciled, disputed), newest month first."""
    async with runtime_of(request).sessions() as session:
        return await views.rent_registries(session, limit)


@router.post("/rent/registry/{period}/state", response_model=schemas.RegistryOut)
async def registry_state(period: str, body: schemas.RegistryStateIn, actor: Desk, uow: UoW
                         ) -> Any:
    """Sent to accounting (frozen), reconciled or disputed."""
    async with uow:
        return await rent.set_registry_state(uow, actor, _period(period), body.state, body.note)


@router.post("/rent/cash-routes", status_code=201, response_model=schemas.CashRouteOut)
async def create_route(body: schemas.CashRouteIn, actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await rent.create_route(uow, actor, body.name, body.courier, body.stops)


@router.get("/rent/cash-routes", response_model=list[schemas.CashRouteDetailOut])
async def list_routes(request: Request, actor: Desk) -> Any:
    """Every cash route: its stops in the courier's order and its months, newest first."""
    async with runtime_of(request).sessions() as session:
        return await views.cash_routes(session)


@router.get("/rent/cash-routes/{route_id}", response_model=schemas.CashRouteDetailOut)
async def get_route(route_id: uuid.UUID, request: Request, actor: Desk) -> Any:
    async with runtime_of(request).sessions() as session:
        found = await views.cash_routes(session, route_id)
    if not found:
        raise NotFound(f"cash route {route_id} not found")
    return found[0]


@router.post("/rent/cash-routes/{route_id}/months", status_code=201,
             response_model=schemas.RouteMonthOut)
async def plan_route_month(route_id: uuid.UUID, body: schemas.PeriodIn, actor: Desk, uow: UoW
                           ) -> Any:
    async with uow:
        return await rent.plan_route_month(uow, actor, route_id, Period.parse(body.period))


@router.get("/rent/route-months/{month_id}", response_model=schemas.RouteMonthOut)
async def get_route_month(month_id: uuid.UUID, actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await rent.route_month(uow, month_id)


@router.post("/rent/route-months/{month_id}/cash-request", response_model=schemas.RouteMonthOut)
async def request_cash(month_id: uuid.UUID, actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await rent.request_cash(uow, actor, month_id)


@router.post("/rent/route-months/{month_id}/permission", response_model=schemas.RouteMonthOut)
async def permit(month_id: uuid.UUID, body: schemas.PermitIn, actor: Approver, uow: UoW) -> Any:
    async with uow:
        return await rent.permit(uow, actor, month_id, body.permission_no)


@router.post("/rent/route-months/{month_id}/items/{agreement_id}/confirm",
             response_model=schemas.RouteMonthOut)
async def confirm(month_id: uuid.UUID, agreement_id: uuid.UUID, body: schemas.ConfirmIn,
                  actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await rent.confirm(uow, actor, month_id, agreement_id, **body.model_dump())


@router.get("/rent/open-items", response_model=list[schemas.OpenItemOut])
async def open_items(actor: Desk, uow: UoW) -> Any:
    async with uow:
        return await rent.open_items(uow)


# --- payables -----------------------------------------------------------------------------------

@router.post("/payables", status_code=201, response_model=schemas.PayableOut)
async def enter_payable(body: schemas.PayableIn, actor: Accounting, uow: UoW,
                        billing: BillingDep) -> Any:
    async with uow:
        payable_id = await payables.enter(uow, actor, **body.model_dump())
    await payables.sync(billing, billing.planfact, payable_id)
    return await payables.get(billing, payable_id)


@router.get("/payables", response_model=list[schemas.PayableOut])
async def list_payables(actor: Accounting, billing: BillingDep,
                        status: PayableStatus | None = None) -> Any:
    return await payables.listing(billing, status)


async def _move(billing: Any, uow: Any, actor: Principal, payable_id: uuid.UUID,
                wanted: PayableStatus, **kw: Any) -> Any:
    async with uow:
        await payables.transition(uow, actor, payable_id, wanted, **kw)
    await payables.sync(billing, billing.planfact, payable_id)
    return await payables.get(billing, payable_id)


@router.post("/payables/{payable_id}/approve", response_model=schemas.PayableOut)
async def approve_payable(payable_id: uuid.UUID, actor: Approver, uow: UoW,
                          billing: BillingDep) -> Any:
    return await _move(billing, uow, actor, payable_id, PayableStatus.APPROVED)


@router.post("/payables/{payable_id}/payment-request", response_model=schemas.PayableOut)
async def request_payment(payable_id: uuid.UUID, actor: Accounting, uow: UoW,
                          billing: BillingDep) -> Any:
    return await _move(billing, uow, actor, payable_id, PayableStatus.PAYMENT_REQUESTED)


@router.post("/payables/{payable_id}/paid", response_model=schemas.PayableOut)
async def mark_paid(payable_id: uuid.UUID, body: schemas.PaidIn, actor: Approver, uow: UoW,
                    billing: BillingDep) -> Any:
    return await _move(billing, uow, actor, payable_id, PayableStatus.PAID, paid_on=body.paid_on)


@router.post("/payables/{payable_id}/reject", response_model=schemas.PayableOut)
async def reject_payable(payable_id: uuid.UUID, body: schemas.RejectIn, actor: Approver,
                         uow: UoW, billing: BillingDep) -> Any:
    return await _move(billing, uow, actor, payable_id, PayableStatus.REJECTED,
                       reason=body.reason)


@router.post("/payables/planfact-sync")
async def planfact_sync(actor: Accounting, billing: BillingDep) -> dict[str, int]:
    """Retry what did not reach PlanFact (the periodic job does the same)."""
    return {"synced": await payables.sync_pending(billing, billing.planfact)}


# --- 1C -----------------------------------------------------------------------------------------

@router.post("/onec/exports", status_code=201, response_model=schemas.OneCExportOut)
async def export_to_onec(body: schemas.PeriodIn, actor: Accounting, billing: BillingDep) -> Any:
    """Clients, contracts and the period's invoices as an EnterpriseData message for 1C."""
    return await onec.export_period(billing, billing.onec, actor, Period.parse(body.period))


@router.get("/onec/exports/{export_id}/xml", response_class=Response,
            responses=file_responses("application/xml"))
async def export_xml(export_id: uuid.UUID, actor: Accounting, billing: BillingDep) -> Response:
    name, body = await onec.export_body(billing, export_id)
    return Response(body, media_type="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
