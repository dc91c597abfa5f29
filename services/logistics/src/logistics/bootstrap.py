"""The only place that reads settings and wires the logistics service together."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from clientops_shared.projections import directory_router
from clientops_shared.runtime import Periodic, ServiceRuntime
from logistics.adapters import orm
from logistics.adapters.carriers import CdekClient, DellinClient, DostavistaClient, FakeCarrier
from logistics.config import LogisticsSettings
from logistics.domain.model import Carrier, FollowUp
from logistics.entrypoints.api.routes import router
from logistics.entrypoints.messaging import handlers
from logistics.service_layer import closing, documents, purchasing, shipments
from logistics.service_layer.unit_of_work import Logistics, LogisticsUnitOfWork


def carriers(settings: LogisticsSettings) -> dict[str, Any]:
    """Each carrier's port: its HTTP client when its URL is set, else the in-memory fake."""
    timeout = settings.carrier_timeout_seconds
    ports: dict[str, Any] = {}
    if settings.dostavista_url:
        for code, vehicle in ((Carrier.DOSTAVISTA, settings.dostavista_vehicle_type_id),
                              (Carrier.TRUCK, settings.truck_vehicle_type_id)):
            ports[code] = DostavistaClient(settings.dostavista_url, settings.dostavista_token,
                                           settings.dostavista_callback_key, code=str(code),
                                           vehicle_type_id=vehicle, timeout=timeout)
    else:
        ports[Carrier.DOSTAVISTA] = FakeCarrier("dostavista", account_balance=None)
        ports[Carrier.TRUCK] = FakeCarrier("truck")
    ports[Carrier.CDEK] = (CdekClient(settings.cdek_url, settings.cdek_client_id,
                                      settings.cdek_client_secret,
                                      tariff_code=settings.cdek_tariff_code, timeout=timeout)
                           if settings.cdek_url else FakeCarrier("cdek"))
    ports[Carrier.DELLIN] = (DellinClient(settings.dellin_url, settings.dellin_appkey,
                                          settings.dellin_login, settings.dellin_password,
                                          timeout=timeout)
                             if settings.dellin_url else FakeCarrier("dellin"))
    return {str(k): v for k, v in ports.items()}


def build(settings: LogisticsSettings | None = None) -> FastAPI:
    settings = settings or LogisticsSettings()
    orm.start_mappers()
    runtime = ServiceRuntime(settings, orm.metadata, LogisticsUnitOfWork, handlers)
    logistics = Logistics(
        uow=runtime.uow, engine=runtime.engine, job_run=runtime.tables.job_run,
        carriers=carriers(settings), balance_threshold=settings.courier_balance_threshold,
        originals=FollowUp(1, settings.originals_escalate_after_working_days),
        closing=FollowUp(settings.closing_remind_after_working_days,
                         settings.closing_escalate_after_working_days),
        warehouse_address=settings.warehouse_address, warehouse_phone=settings.warehouse_phone)

    async def originals_job() -> Any:
        return await documents.control(logistics, logistics.today())

    async def closing_job() -> Any:
        return await closing.control(logistics, logistics.today())

    async def purchase_job() -> Any:
        return await purchasing.flag_overdue(logistics, logistics.today())

    async def carrier_job() -> Any:
        return await shipments.poll(logistics)

    async def balance_job() -> Any:
        return await shipments.refresh_balances(logistics)

    runtime.periodic += [
        Periodic("originals-control", settings.scheduler_tick_seconds, originals_job),
        Periodic("closing-docs-control", settings.scheduler_tick_seconds, closing_job),
        Periodic("purchase-orders-overdue", settings.scheduler_tick_seconds, purchase_job),
        Periodic("carrier-status", settings.carrier_poll_seconds, carrier_job),
        Periodic("courier-balance", settings.carrier_poll_seconds, balance_job)]
    return runtime.create_app("ClientOps logistics", [router, directory_router(orm.clients)],
                              logistics=logistics)
