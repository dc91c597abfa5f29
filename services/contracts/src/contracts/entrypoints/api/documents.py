"""Generated documents (DOCX/PDF) and uploaded scans (PDF/JPEG) behind the storage port."""

from __future__ import annotations

import uuid
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import Response

from clientops_shared.auth import CurrentUser
from clientops_shared.http import DOCX, file_responses
from clientops_shared.runtime import runtime_of
from contracts import documents as docs
from contracts import views
from contracts.domain.files import EXTENSIONS, DocumentKind
from contracts.entrypoints.api import schemas
from contracts.entrypoints.api.deps import (
    ClaimDesk,
    Company,
    ContractDesk,
    Settings,
    Storage,
    Today,
    UoW,
)
from contracts.service_layer import desk, handlers
from contracts.service_layer import documents as use

router = APIRouter(prefix="/api", tags=["documents"])
Format = Literal["docx", "pdf"]
Template = Literal["contract", "price_protocol"]
CHUNK = 64 * 1024


DOCUMENT_FILES = file_responses(DOCX, "application/pdf")


def _file(rendered: use.Rendered) -> Response:
    return Response(rendered.content, media_type=rendered.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(rendered.filename)}"})


@router.get("/contracts/{contract_id}/documents/{template}", responses=DOCUMENT_FILES)
async def contract_document(contract_id: uuid.UUID, template: Template, actor: CurrentUser,
                            uow: UoW, company: Company, settings: Settings, today: Today,
                            format: Format = "docx") -> Response:
    """The contract or its price agreement protocol, as DOCX (editable) or PDF.

    Every document prints for every kind, with the kind's roles: Исполнитель / Заказчик
    for the service kinds, Поставщик / Покупатель for supply (a one-off price), Арендатор /
    Арендодатель for rent (the monthly rent we pay the site owner, cash or cashless).
    """
    async with uow:
        rendered = await use.contract_document(uow, actor, contract_id, template, format,
                                               company, settings.company.city, today)
    return _file(rendered)


@router.post("/contracts/{contract_id}/documents/acceptance-act", responses=DOCUMENT_FILES)
async def acceptance_act(contract_id: uuid.UUID, body: docs.HandoverFacts, actor: CurrentUser,
                         uow: UoW, company: Company, settings: Settings, today: Today,
                         format: Format = "docx") -> Response:
    """An equipment hand-over act for the contract's site (lines in the body).

    For rent it is the terminal act: our terminal placed at the site owner's site
    (``to_client``) or taken back on removal (``from_client``); every line needs its
    ``serial``. For supply the buyer receives priced equipment (``to_client`` only); the act
    states its cost in words. A missing field is a 422 naming it.
    """
    async with uow:
        rendered = await use.contract_document(uow, actor, contract_id, "acceptance_act",
                                               format, company, settings.company.city, today,
                                               handover=body)
    return _file(rendered)


@router.get("/amendments/{amendment_id}/document", responses=DOCUMENT_FILES)
async def amendment_document(amendment_id: uuid.UUID, actor: CurrentUser, uow: UoW,
                             company: Company, settings: Settings, today: Today,
                             format: Format = "docx") -> Response:
    """The supplementary agreement (termination, extension) or price protocol (fee change)."""
    async with uow:
        rendered = await use.amendment_document(uow, actor, amendment_id, format, company,
                                                settings.company.city, today)
    return _file(rendered)


@router.get("/documents/company-card", responses=DOCUMENT_FILES)
async def company_card(actor: CurrentUser, company: Company, format: Format = "pdf"
                       ) -> Response:
    """Our company card, to send a client preparing a contract (seed 004 §1.5)."""
    return _file(await use.company_card_document(company, format))


async def _read_limited(file: UploadFile, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes: enough to know a file is too large without keeping it."""
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await file.read(CHUNK)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)[: limit + 1]


@router.post("/contracts/{contract_id}/scans", status_code=201,
             response_model=schemas.StoredDocumentOut)
async def upload_scan(contract_id: uuid.UUID, file: UploadFile, actor: ContractDesk, uow: UoW,
                      storage: Storage, settings: Settings) -> Any:
    """A scan of the signed contract: PDF or JPEG (checked by content), size-limited."""
    data = await _read_limited(file, settings.max_upload_bytes)
    async with uow:
        contract = await uow.contract(contract_id)
        client = await uow.client(contract.client_id)
        handlers.ensure_visible(actor, client)
        return await use.store_upload(uow, storage, actor, client=client,
                                      kind=DocumentKind.SIGNED_SCAN, filename=file.filename,
                                      declared_type=file.content_type, data=data,
                                      limit=settings.max_upload_bytes,
                                      contract_id=contract.id)


@router.get("/contracts/{contract_id}/scans", response_model=list[schemas.StoredDocumentOut])
async def list_scans(request: Request, contract_id: uuid.UUID, actor: CurrentUser, uow: UoW
                     ) -> Any:
    async with uow:
        contract = await uow.contract(contract_id)
        handlers.ensure_visible(actor, await uow.client(contract.client_id))
    async with runtime_of(request).sessions() as session:
        return await views.documents(session, contract_id=contract_id)


@router.post("/claims/{claim_id}/court-decisions", status_code=201,
             response_model=schemas.StoredDocumentOut)
async def attach_court_decision(claim_id: uuid.UUID, file: UploadFile, actor: ClaimDesk,
                                uow: UoW, storage: Storage, settings: Settings) -> Any:
    data = await _read_limited(file, settings.max_upload_bytes)
    async with uow:
        return await desk.attach_court_decision(uow, storage, actor, claim_id,
                                                filename=file.filename,
                                                declared_type=file.content_type, data=data,
                                                limit=settings.max_upload_bytes)


@router.get("/claims/{claim_id}/documents", response_model=list[schemas.StoredDocumentOut])
async def claim_documents(request: Request, claim_id: uuid.UUID, actor: CurrentUser, uow: UoW
                          ) -> Any:
    async with uow:
        claim = await uow.claim(claim_id)
        handlers.ensure_visible(actor, await uow.client(claim.client_id))
    async with runtime_of(request).sessions() as session:
        return await views.documents(session, claim_id=claim_id)


@router.get("/documents/{document_id}", responses=file_responses(*EXTENSIONS))
async def download(document_id: uuid.UUID, actor: CurrentUser, uow: UoW, storage: Storage
                   ) -> Response:
    async with uow:
        stored = await uow.document(document_id)
        handlers.ensure_visible(actor, await uow.client(stored.client_id))
        key, size, media_type, filename = (stored.storage_key, stored.size,
                                           stored.content_type, stored.filename)
    content = await storage.get(key)
    if len(content) != size:  # storage and database disagree: an operator must look
        raise RuntimeError(f"stored file {key} has {len(content)} bytes, its record {size}")
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff"})
