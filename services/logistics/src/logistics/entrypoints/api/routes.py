"""The logistics HTTP API: thin routes that parse, authorise and call one use case."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, File, Request, Response, UploadFile

from clientops_shared.errors import InvalidInput, NotFound
from clientops_shared.http import file_responses
from clientops_shared.idempotency import idempotent
from clientops_shared.runtime import runtime_of
from logistics import views
from logistics.domain.model import (
    CARRIER_LABELS,
    LOCATION_LABELS,
    Carrier,
    ClosingStatus,
    needs_large_vehicle,
)
from logistics.entrypoints.api import schemas
from logistics.entrypoints.api.deps import Desk, Limit, LogisticsDep, Offset, Reader, UoW
from logistics.service_layer import closing, documents, purchasing, shipments, stock
from logistics.service_layer.unit_of_work import LogisticsUnitOfWork

router = APIRouter(prefix="/api")


def _total(response: Response, page: views.Page) -> list[dict[str, Any]]:
    response.headers["X-Total-Count"] = str(page[0])
    return page[1]


# --- reference data ----------------------------------------------------------------------------

@router.get("/items")
async def list_items(request: Request, response: Response, actor: Reader, limit: Limit = 500,
                     offset: Offset = 0) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.items(session, limit, offset))


@router.post("/items", status_code=201)
async def create_item(body: schemas.ItemIn, actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        return await stock.create_item(uow, actor, **body.model_dump())


@router.get("/locations")
async def list_locations(actor: Reader) -> list[dict[str, str]]:
    return [{"code": str(code), "name": name} for code, name in LOCATION_LABELS.items()]


@router.get("/carriers")
async def list_carriers(actor: Reader) -> list[dict[str, Any]]:
    return [{"code": str(code), "label": label, "large": code is Carrier.TRUCK}
            for code, label in CARRIER_LABELS.items()]


# --- stock -------------------------------------------------------------------------------------

@router.post("/stock/receipts", status_code=201)
async def receive(request: Request, body: schemas.ReceiptIn, actor: Desk, uow: UoW) -> Any:
    async def run(work: LogisticsUnitOfWork) -> Any:
        return await stock.receive(work, actor, sku=body.item, quantity=body.quantity,
                                   serials=body.serials, location=body.location,
                                   note=body.note)

    return await idempotent(request, actor, body, run, lambda r: r, uow=uow)


@router.get("/stock")
async def list_stock(request: Request, response: Response, actor: Reader,
                     item: str | None = None, location: str | None = None, limit: Limit = 500,
                     offset: Offset = 0) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.stock(session, sku=item, location=location,
                                                  limit=limit, offset=offset))


@router.get("/stock/serials")
async def list_serials(request: Request, response: Response, actor: Reader,
                       item: str | None = None, location: str | None = None,
                       state: str | None = None, limit: Limit = 500, offset: Offset = 0
                       ) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.serials(session, sku=item, location=location,
                                                    state=state, limit=limit, offset=offset))


@router.post("/stock/moves", status_code=201)
async def move(body: schemas.MoveIn, actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        return await stock.move(uow, actor, sku=body.item, quantity=body.quantity,
                                serials=body.serials, from_location=body.from_location,
                                to_location=body.to_location, reason=body.reason,
                                note=body.note)


@router.get("/stock/moves")
async def list_moves(request: Request, response: Response, actor: Reader,
                     item: str | None = None, limit: Limit = 100, offset: Offset = 0
                     ) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.moves(session, sku=item, limit=limit,
                                                  offset=offset))


@router.post("/stock/reservations", status_code=201)
async def reserve(body: schemas.ReservationIn, actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        reservation_id = await stock.reserve(
            uow, actor, sku=body.item, quantity=body.quantity, serials=body.serials,
            location=body.location, work_order_id=body.work_order_id,
            shipment_id=body.shipment_id, note=body.note)
    return {"id": reservation_id, "status": "active"}


@router.get("/stock/reservations")
async def list_reservations(request: Request, response: Response, actor: Reader,
                            status: str | None = None, work_order_id: uuid.UUID | None = None,
                            item: str | None = None, limit: Limit = 100, offset: Offset = 0
                            ) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.reservations(
            session, status=status, work_order_id=work_order_id, sku=item, limit=limit,
            offset=offset))


@router.post("/stock/reservations/{reservation_id}/release")
async def release(reservation_id: uuid.UUID, actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        return await stock.release(uow, actor, reservation_id)


# --- shipments ---------------------------------------------------------------------------------

@router.post("/shipments", status_code=201)
async def create_shipment(request: Request, body: schemas.ShipmentIn, actor: Desk, uow: UoW
                          ) -> Any:
    async def run(work: LogisticsUnitOfWork) -> Any:
        return await shipments.create(
            work, actor, client_id=body.client_id, site_id=body.site_id,
            lines=[line.model_dump() for line in body.lines], carrier=body.carrier,
            work_order_id=body.work_order_id, address=body.address,
            contact_name=body.contact_name, contact_phone=body.contact_phone,
            arrival_on=body.arrival_on, ships_on=body.ships_on)

    return await idempotent(request, actor, body, run,
                            lambda r: {**r, "id": str(r["id"])}, uow=uow)


@router.get("/shipments")
async def list_shipments(request: Request, response: Response, actor: Reader,
                         status: str | None = None, client_id: uuid.UUID | None = None,
                         carrier: str | None = None, limit: Limit = 100, offset: Offset = 0
                         ) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.shipments(
            session, actor, status=status, client_id=client_id, carrier=carrier, limit=limit,
            offset=offset))


async def _shipment(request: Request, actor: Any, shipment_id: uuid.UUID) -> dict[str, Any]:
    async with runtime_of(request).sessions() as session:
        return await views.shipment_detail(session, actor, shipment_id)


@router.get("/shipments/{shipment_id}")
async def get_shipment(request: Request, shipment_id: uuid.UUID, actor: Reader
                       ) -> dict[str, Any]:
    found = await _shipment(request, actor, shipment_id)
    found["needs_large_vehicle"] = needs_large_vehicle([line["kind"] for line in found["lines"]])
    return found


@router.post("/shipments/{shipment_id}/dates")
async def agree_dates(request: Request, shipment_id: uuid.UUID, body: schemas.DatesIn,
                      actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        await shipments.set_dates(uow, actor, shipment_id, arrival_on=body.arrival_on,
                                  ships_on=body.ships_on)
    return await _shipment(request, actor, shipment_id)


@router.post("/shipments/{shipment_id}/quote")
async def quote(shipment_id: uuid.UUID, actor: Desk, logistics: LogisticsDep
                ) -> dict[str, Any]:
    found = await shipments.quote(logistics, shipment_id)
    return {"price": f"{found.price:.2f}", "days_min": found.days_min,
            "days_max": found.days_max}


@router.post("/shipments/{shipment_id}/dispatch")
async def dispatch(request: Request, shipment_id: uuid.UUID, body: schemas.DispatchIn,
                   actor: Desk, logistics: LogisticsDep) -> dict[str, Any]:
    await shipments.dispatch(logistics, actor, shipment_id, body.shipped_on)
    return await _shipment(request, actor, shipment_id)


@router.post("/shipments/{shipment_id}/delivered")
async def delivered(request: Request, shipment_id: uuid.UUID, body: schemas.DeliveredIn,
                    actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        await shipments.delivered(uow, actor, shipment_id, delivered_on=body.delivered_on,
                                  received_by=body.received_by)
    return await _shipment(request, actor, shipment_id)


@router.post("/shipments/{shipment_id}/cancel")
async def cancel(request: Request, shipment_id: uuid.UUID, actor: Desk, uow: UoW
                 ) -> dict[str, Any]:
    async with uow:
        await shipments.cancel(uow, actor, shipment_id)
    return await _shipment(request, actor, shipment_id)


@router.post("/carriers/{carrier}/callback")
async def carrier_callback(request: Request, carrier: Carrier, logistics: LogisticsDep
                           ) -> dict[str, Any]:
    """Called by the carrier itself: no JWT; the carrier's signature (or a re-read of the
    order from its API, where callbacks are unsigned) is what is trusted."""
    body = await request.body()
    if len(body) > 64 * 1024:
        raise InvalidInput("body", "уведомление слишком большое")
    return await shipments.callback(logistics, str(carrier), body,
                                    {k.lower(): v for k, v in request.headers.items()})


@router.post("/jobs/carrier-status")
async def poll_carriers(actor: Desk, logistics: LogisticsDep) -> dict[str, int]:
    return await shipments.poll(logistics)


@router.get("/courier-accounts")
async def courier_accounts(request: Request, actor: Reader) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return await views.courier_accounts(session)


@router.post("/courier-accounts/{carrier}/refresh")
async def refresh_balance(carrier: Carrier, actor: Desk, logistics: LogisticsDep
                          ) -> dict[str, Any]:
    return await shipments.refresh_balance(logistics, str(carrier))


# --- document courier --------------------------------------------------------------------------

@router.post("/document-deliveries", status_code=201)
async def register_delivery(request: Request, body: schemas.DocumentDeliveryIn, actor: Desk,
                            uow: UoW, logistics: LogisticsDep) -> Any:
    async def run(work: LogisticsUnitOfWork) -> Any:
        return await documents.register(
            work, actor, client_id=body.client_id, documents=body.titles(),
            originals_due_on=body.originals_due_on, address=body.address, note=body.note,
            registered_on=logistics.today())

    return await idempotent(request, actor, body, run,
                            lambda r: {**r, "id": str(r["id"])}, uow=uow)


@router.get("/document-deliveries")
async def list_deliveries(request: Request, response: Response, actor: Reader,
                          logistics: LogisticsDep, status: str | None = None,
                          client_id: uuid.UUID | None = None, overdue: bool = False,
                          limit: Limit = 100, offset: Offset = 0) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.deliveries(
            session, actor, status=status, client_id=client_id, overdue_only=overdue,
            today=logistics.today(), limit=limit, offset=offset))


async def _delivery(request: Request, actor: Any, delivery_id: uuid.UUID) -> dict[str, Any]:
    async with runtime_of(request).sessions() as session:
        return await views.delivery_detail(session, actor, delivery_id,
                                           request.app.state.logistics.today())


@router.get("/document-deliveries/{delivery_id}")
async def get_delivery(request: Request, delivery_id: uuid.UUID, actor: Reader
                       ) -> dict[str, Any]:
    return await _delivery(request, actor, delivery_id)


@router.post("/document-deliveries/{delivery_id}/handed")
async def delivery_handed(request: Request, delivery_id: uuid.UUID, body: schemas.HandedIn,
                          actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        await documents.handed(uow, actor, delivery_id, courier=body.courier,
                               courier_kind=body.courier_kind, handed_on=body.handed_on)
    return await _delivery(request, actor, delivery_id)


@router.post("/document-deliveries/{delivery_id}/delivered")
async def delivery_delivered(request: Request, delivery_id: uuid.UUID,
                             body: schemas.DocDeliveredIn, actor: Desk, uow: UoW
                             ) -> dict[str, Any]:
    async with uow:
        await documents.delivered(uow, actor, delivery_id, delivered_on=body.delivered_on)
    return await _delivery(request, actor, delivery_id)


@router.post("/document-deliveries/{delivery_id}/returned")
async def delivery_returned(request: Request, delivery_id: uuid.UUID, body: schemas.ReturnedIn,
                            actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        await documents.returned(uow, actor, delivery_id, returned_on=body.returned_on,
                                 document_ids=body.documents)
    return await _delivery(request, actor, delivery_id)


@router.post("/document-deliveries/{delivery_id}/to-accounting")
async def delivery_to_accounting(request: Request, delivery_id: uuid.UUID,
                                 body: schemas.AccountingIn, actor: Desk, uow: UoW
                                 ) -> dict[str, Any]:
    async with uow:
        await documents.to_accounting(uow, actor, delivery_id, handed_on=body.handed_on,
                                      mark=body.mark)
    return await _delivery(request, actor, delivery_id)


@router.post("/jobs/originals-control")
async def originals_control(body: schemas.ControlIn, actor: Desk, logistics: LogisticsDep
                            ) -> dict[str, Any]:
    return await documents.control(logistics, body.on or logistics.today())


# --- closing documents and documents received from clients -------------------------------------

@router.post("/closing-documents", status_code=201)
async def expect_closing(body: schemas.ClosingIn, actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        document_id = await closing.create(uow, actor, **body.model_dump())
    return {"id": document_id, "status": "expected"}


@router.get("/closing-documents")
async def list_closing(request: Request, response: Response, actor: Reader,
                       logistics: LogisticsDep, status: str | None = None,
                       client_id: uuid.UUID | None = None, limit: Limit = 100,
                       offset: Offset = 0) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.closing_documents(
            session, actor, status=status, client_id=client_id, today=logistics.today(),
            limit=limit, offset=offset))


@router.post("/closing-documents/{document_id}/sent")
async def closing_sent(document_id: uuid.UUID, body: schemas.ClosingSentIn, actor: Desk,
                       uow: UoW) -> dict[str, str]:
    async with uow:
        await closing.advance(uow, actor, document_id, ClosingStatus.SENT, body.sent_on,
                              number=body.number, amount=body.amount)
    return {"status": "sent"}


@router.post("/closing-documents/{document_id}/signed")
async def closing_signed(document_id: uuid.UUID, body: schemas.ClosingSignedIn, actor: Desk,
                         uow: UoW) -> dict[str, str]:
    async with uow:
        await closing.advance(uow, actor, document_id, ClosingStatus.SIGNED, body.signed_on)
    return {"status": "signed"}


@router.post("/closing-documents/{document_id}/returned")
async def closing_returned(document_id: uuid.UUID, body: schemas.ClosingReturnedIn,
                           actor: Desk, uow: UoW) -> dict[str, str]:
    async with uow:
        await closing.advance(uow, actor, document_id, ClosingStatus.RETURNED,
                              body.returned_on)
    return {"status": "returned"}


@router.post("/jobs/closing-documents-control")
async def closing_control(body: schemas.ControlIn, actor: Desk, logistics: LogisticsDep
                          ) -> dict[str, Any]:
    return await closing.control(logistics, body.on or logistics.today())


@router.post("/received-documents", status_code=201)
async def log_received(body: schemas.ReceivedIn, actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        return {"id": await closing.receive_document(uow, actor, **body.model_dump())}


@router.get("/received-documents")
async def list_received(request: Request, response: Response, actor: Reader,
                        pending: bool = False, client_id: uuid.UUID | None = None,
                        limit: Limit = 100, offset: Offset = 0) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.received_documents(
            session, actor, pending=pending, client_id=client_id, limit=limit,
            offset=offset))


@router.post("/received-documents/to-accounting")
async def received_to_accounting(body: schemas.ToAccountingIn, actor: Desk, uow: UoW
                                 ) -> dict[str, int]:
    async with uow:
        return {"handed": await closing.hand_to_accounting(uow, actor, body.documents,
                                                           body.handed_on)}


# --- purchasing --------------------------------------------------------------------------------

@router.post("/suppliers", status_code=201)
async def add_supplier(body: schemas.SupplierIn, actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        return {"id": await purchasing.add_supplier(
            uow, actor, name=body.name, inn=body.inn, notes=body.notes,
            contacts=[c.model_dump(exclude_none=True) for c in body.contacts])}


@router.get("/suppliers")
async def list_suppliers(request: Request, response: Response, actor: Reader,
                         limit: Limit = 200, offset: Offset = 0) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.suppliers(session, limit, offset))


@router.post("/suppliers/{supplier_id}/prices", status_code=201)
async def set_price(supplier_id: uuid.UUID, body: schemas.PriceIn, actor: Desk, uow: UoW
                    ) -> dict[str, str]:
    async with uow:
        await purchasing.set_price(uow, actor, supplier_id, sku=body.item, price=body.price,
                                   valid_from=body.valid_from, availability=body.availability)
    return {"status": "saved"}


@router.get("/prices")
async def list_prices(request: Request, response: Response, actor: Reader,
                      supplier_id: uuid.UUID | None = None, item: str | None = None,
                      history: bool = False, limit: Limit = 200, offset: Offset = 0
                      ) -> list[dict[str, Any]]:
    """Each supplier's current price per item (cheapest first) with the change against its
    previous price; ``history=true`` lists every dated price."""
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.prices(session, supplier_id=supplier_id, sku=item,
                                                   latest_only=not history, limit=limit,
                                                   offset=offset))


@router.post("/purchase-orders", status_code=201)
async def create_purchase_order(body: schemas.PurchaseOrderIn, actor: Desk, uow: UoW,
                                logistics: LogisticsDep) -> dict[str, Any]:
    async with uow:
        return await purchasing.order(
            uow, actor, supplier_id=body.supplier_id,
            lines=[line.model_dump() for line in body.lines],
            expected_ship_on=body.expected_ship_on, request_id=body.request_id,
            note=body.note, today=logistics.today())


@router.get("/purchase-orders")
async def list_purchase_orders(request: Request, response: Response, actor: Reader,
                               logistics: LogisticsDep, status: str | None = None,
                               overdue: bool = False, limit: Limit = 100, offset: Offset = 0
                               ) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.purchase_orders(
            session, status=status, overdue_only=overdue, today=logistics.today(),
            limit=limit, offset=offset))


async def _purchase_order(request: Request, order_id: uuid.UUID) -> dict[str, Any]:
    async with runtime_of(request).sessions() as session:
        _, rows = await views.purchase_orders(
            session, status=None, overdue_only=False,
            today=request.app.state.logistics.today(), limit=1, offset=0, order_id=order_id)
    if not rows:
        raise NotFound(f"заказ поставщику {order_id} не найден")
    return rows[0]


@router.get("/purchase-orders/{order_id}")
async def get_purchase_order(request: Request, order_id: uuid.UUID, actor: Reader
                             ) -> dict[str, Any]:
    return await _purchase_order(request, order_id)


@router.post("/purchase-orders/{order_id}/invoice")
async def supplier_invoice(request: Request, order_id: uuid.UUID,
                           body: schemas.SupplierInvoiceIn, actor: Desk, uow: UoW
                           ) -> dict[str, Any]:
    async with uow:
        await purchasing.record_invoice(uow, actor, order_id, **body.model_dump())
    return await _purchase_order(request, order_id)


@router.post("/purchase-orders/{order_id}/ship-date")
async def ship_date(request: Request, order_id: uuid.UUID, body: schemas.ShipDateIn,
                    actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        await purchasing.expect_shipping(uow, actor, order_id, body.expected_ship_on)
    return await _purchase_order(request, order_id)


@router.post("/purchase-orders/{order_id}/attachments", status_code=201)
async def attach(request: Request, order_id: uuid.UUID, actor: Desk, uow: UoW,
                 file: UploadFile = File(...)) -> dict[str, Any]:
    data = await file.read(purchasing.ATTACHMENT_LIMIT + 1)
    async with uow:
        attachment_id = await purchasing.attach(uow, actor, order_id,
                                                filename=file.filename or "file",
                                                declared_type=file.content_type, data=data)
    return {"id": attachment_id}


@router.get("/purchase-orders/{order_id}/attachments/{attachment_id}",
            responses=file_responses(*purchasing.ATTACHMENT_TYPES))
async def download(request: Request, order_id: uuid.UUID, attachment_id: uuid.UUID,
                   actor: Reader) -> Response:
    async with runtime_of(request).sessions() as session:
        found = await views.attachment(session, order_id, attachment_id)
    return Response(found["data"], media_type=found["content_type"],
                    headers={"X-Content-Type-Options": "nosniff",
                             "Content-Disposition": "attachment"})


@router.post("/purchase-orders/{order_id}/received")
async def goods_received(request: Request, order_id: uuid.UUID, body: schemas.GoodsReceivedIn,
                         actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        await purchasing.receive(uow, actor, order_id, received_on=body.received_on,
                                 location=body.location, serials=body.serials,
                                 remote=body.remote, note=body.note)
    return await _purchase_order(request, order_id)


@router.post("/jobs/purchase-orders-overdue")
async def purchase_overdue(body: schemas.ControlIn, actor: Desk, logistics: LogisticsDep
                           ) -> dict[str, int]:
    return {"flagged": await purchasing.flag_overdue(logistics, body.on or logistics.today())}


@router.post("/purchase-requests", status_code=201)
async def purchase_request(body: schemas.PurchaseRequestIn, actor: Desk, uow: UoW
                           ) -> dict[str, Any]:
    async with uow:
        return await purchasing.request_parts(
            uow, actor, request_id=None, work_order_id=body.work_order_id,
            client_id=body.client_id, site_id=body.site_id,
            lines=[line.model_dump() for line in body.lines], needed_by=body.needed_by,
            source="manual")


@router.get("/purchase-requests")
async def list_purchase_requests(request: Request, response: Response, actor: Reader,
                                 status: str | None = None, limit: Limit = 100,
                                 offset: Offset = 0) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.purchase_requests(session, status=status,
                                                              limit=limit, offset=offset))


@router.post("/goods-searches", status_code=201)
async def open_search(body: schemas.SearchIn, actor: Desk, uow: UoW) -> dict[str, Any]:
    async with uow:
        return {"id": await purchasing.open_search(uow, actor, title=body.title,
                                                   description=body.description)}


@router.post("/goods-searches/{search_id}/notes")
async def search_note(search_id: uuid.UUID, body: schemas.SearchNoteIn, actor: Desk, uow: UoW,
                      logistics: LogisticsDep) -> dict[str, str]:
    async with uow:
        await purchasing.search_note(uow, actor, search_id, text=body.text, status=body.status,
                                     supplier_id=body.supplier_id, on=logistics.today())
    return {"status": "saved"}


@router.get("/goods-searches")
async def list_searches(request: Request, response: Response, actor: Reader,
                        status: str | None = None, limit: Limit = 100, offset: Offset = 0
                        ) -> list[dict[str, Any]]:
    async with runtime_of(request).sessions() as session:
        return _total(response, await views.goods_searches(session, status=status, limit=limit,
                                                           offset=offset))
