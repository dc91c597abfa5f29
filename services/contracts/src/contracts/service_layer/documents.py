"""Documents from the domain: generated DOCX/PDF, and uploaded scans behind the storage port.

The documents package has its own validated input models; this module maps clients, sites,
contracts and amendments onto them. A client card that lacks what a document must print
(address, signatory, KPP) is a 422 naming the missing fields, never a half-empty document.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import ValidationError

from clientops_shared.auth import Principal
from clientops_shared.errors import InvalidInput
from clientops_shared.events import contracts as ev
from clientops_shared.offload import in_worker_process
from contracts import documents as docs
from contracts.adapters.storage import FileStorage
from contracts.config import OurCompany
from contracts.domain.files import EXTENSIONS, DocumentKind, StoredDocument, check_upload
from contracts.domain.model import (
    Amendment,
    AmendmentKind,
    Client,
    Contract,
    ContractKind,
    PaymentForm,
)
from contracts.service_layer.handlers import DEFAULT_EMERGENCY_SLA_DAYS, ensure_visible, snapshot
from contracts.service_layer.unit_of_work import ContractsUnitOfWork

Format = Literal["docx", "pdf"]
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
# VAT is data with effective dates (ARCHITECTURE §2): 20 % to 2025-12-31, 22 % from 2026-01-01
VAT_RATES = ((date(2026, 1, 1), Decimal("22")), (date(1, 1, 1), Decimal("20")))
DOCUMENT_KINDS = {
    ContractKind.SUBSCRIPTION: docs.ContractKind.SUBSCRIPTION,
    ContractKind.PILOT: docs.ContractKind.PILOT,
    ContractKind.MAINTENANCE: docs.ContractKind.MAINTENANCE,
    ContractKind.SUPPLY: docs.ContractKind.SUPPLY,
    ContractKind.RENT: docs.ContractKind.RENT,
}
AMENDMENT_TEMPLATES = {
    AmendmentKind.TERMINATION: "termination_agreement",
    AmendmentKind.EXTENSION: "extension_agreement",
    AmendmentKind.FEE_CHANGE: "price_protocol",
}


@dataclass(frozen=True)
class Rendered:
    content: bytes
    filename: str
    media_type: str


def vat_rate_on(day: date) -> Decimal:
    return next(rate for since, rate in VAT_RATES if day >= since)


def company_card(company: OurCompany) -> docs.CompanyCard:
    """Our details from settings, validated like any requisites (bad settings fail start-up)."""
    return docs.CompanyCard(
        name=company.name, short_name=company.short_name, inn=company.inn, kpp=company.kpp,
        ogrn=company.ogrn, address=company.address, postal_address=company.postal_address,
        bank=docs.BankDetails(bank_name=company.bank_name, bik=company.bik,
                              account=company.account, corr_account=company.corr_account),
        director=docs.Signatory(position=company.director_position,
                                full_name=company.director_name,
                                in_person_of=company.director_in_person_of),
        phone=company.phone, email=company.email)


def _invalid(exc: ValidationError, prefix: str) -> InvalidInput:
    errors = [{"field": ".".join([prefix, *(str(p) for p in e["loc"])]).rstrip("."),
               "message": e["msg"]} for e in exc.errors()]
    error = InvalidInput(errors[0]["field"], errors[0]["message"])
    error.extra["errors"] = errors
    error.detail = "the document cannot be printed: " + "; ".join(
        f"{e['field']}: {e['message']}" for e in errors)
    return error


def party(client: Client) -> docs.PartyDetails:
    missing = [name for name, value in (("legal_address", client.legal_address),
                                        ("signatory", client.signatory)) if value is None]
    if missing:
        error = InvalidInput(f"client.{missing[0]}", "required to print documents")
        error.extra["errors"] = [{"field": f"client.{m}", "message": "required to print "
                                  "documents"} for m in missing]
        raise error
    signatory = client.signatory
    assert signatory is not None
    bank = client.bank
    try:
        return docs.PartyDetails(
            name=client.name, inn=client.inn, kpp=client.kpp, ogrn=client.ogrn,
            address=client.legal_address,
            bank=None if bank is None else docs.BankDetails(
                bank_name=bank.bank_name, bik=bank.bik, account=bank.account,
                corr_account=bank.corr_account),
            signatory=docs.Signatory(position=signatory.position,
                                     full_name=signatory.full_name,
                                     in_person_of=signatory.in_person_of,
                                     basis=signatory.basis, female=signatory.female),
            phone=client.phone, email=client.email)
    except ValidationError as exc:
        raise _invalid(exc, "client") from None


async def contract_facts(uow: ContractsUnitOfWork, contract: Contract, today: date, *,
                         monthly_fee: Decimal | None = None,
                         ends_on: date | Literal["current"] | None = "current",
                         city: str = "Москва") -> docs.ContractFacts:
    kind = DOCUMENT_KINDS[contract.kind]
    emergency_sla_days = contract.emergency_sla_days
    if emergency_sla_days is None and kind in docs.SERVICE_KINDS:
        # a service contract without its own term prints the company's standard one
        emergency_sla_days = DEFAULT_EMERGENCY_SLA_DAYS
    if contract.site_id is None:
        raise InvalidInput("site_id", "the contract names no site; documents print the site's "
                           "address and access points")
    site = await uow.site(contract.site_id)
    try:
        return docs.ContractFacts(
            number=contract.number, kind=kind, signed_on=contract.signed_on or today,
            starts_on=contract.starts_on,
            ends_on=contract.ends_on if ends_on == "current" else ends_on,
            auto_renew=contract.auto_renew,
            monthly_fee=contract.monthly_fee if monthly_fee is None else monthly_fee,
            vat_mode=docs.VatMode(contract.vat_mode.value),
            vat_rate=vat_rate_on(contract.starts_on),
            payment_form=docs.PaymentForm(contract.payment_form.value), city=city,
            site_address=site.address, access_points=site.access_points,
            notice_days=contract.notice_days, emergency_sla_days=emergency_sla_days,
            bill_from_install=contract.bill_from_install)
    except ValidationError as exc:
        raise _invalid(exc, "contract") from None


def ensure_printable(template: str, contract: Contract, client: Client) -> None:
    """422 before rendering when the template has no wording for the contract's kind, or a
    cashless rent contract lacks the site owner's account the rent is paid into."""
    spec = docs.get_template(template)
    kind = DOCUMENT_KINDS[contract.kind]
    if kind not in spec.contract_kinds:
        raise InvalidInput("kind", f"there is no {template} document for {contract.kind} "
                           "contracts yet")
    if (kind is docs.ContractKind.RENT and contract.payment_form == PaymentForm.CASHLESS
            and client.bank is None):
        raise InvalidInput("client.bank", "cashless rent is paid into the site owner's bank "
                           "account: required to print a rent document")


def ensure_complete_handover(contract: Contract, handover: docs.HandoverFacts) -> None:
    """422 naming the body's fields an act of this contract's kind cannot do without: a rent
    act identifies each terminal by its serial number, a supply act prices what it hands
    over to the buyer."""
    gaps = docs.handover_gaps(DOCUMENT_KINDS[contract.kind], handover)
    if gaps:
        error = InvalidInput(*gaps[0])
        error.extra["errors"] = [{"field": field, "message": message}
                                 for field, message in gaps]
        raise error


def amendment_facts(amendment: Amendment) -> docs.AmendmentFacts:
    try:
        return docs.AmendmentFacts(
            kind=docs.AmendmentKind(amendment.kind.value), number=str(amendment.number),
            signed_on=amendment.signed_on, effective_on=amendment.effective_on,
            new_fee=amendment.new_fee, new_ends_on=amendment.new_ends_on)
    except ValidationError as exc:
        raise _invalid(exc, "amendment") from None


async def _render(template: str, context: docs.DocumentContext, fmt: Format, stem: str
                  ) -> Rendered:
    render = docs.render_docx if fmt == "docx" else docs.render_pdf
    # rendering is CPU work (WeasyPrint takes a while): in a worker process, off the loop
    content = await in_worker_process(render, template, context)
    return Rendered(content, f"{stem}.{fmt}", MEDIA_TYPES[fmt])


def _context(company: docs.CompanyCard, **parts: Any) -> docs.DocumentContext:
    try:
        return docs.DocumentContext(company=company, **parts)
    except ValidationError as exc:
        raise _invalid(exc, "document") from None


async def contract_document(uow: ContractsUnitOfWork, actor: Principal, contract_id: uuid.UUID,
                            template: str, fmt: Format, company: docs.CompanyCard,
                            city: str, today: date,
                            handover: docs.HandoverFacts | None = None) -> Rendered:
    if template not in ("contract", "price_protocol", "acceptance_act"):
        raise InvalidInput("template", "a contract prints as contract, price_protocol or "
                           "acceptance_act; supplementary agreements print from an amendment")
    contract = await uow.contract(contract_id)
    client = await uow.client(contract.client_id)
    ensure_visible(actor, client)
    ensure_printable(template, contract, client)
    if handover is not None:
        ensure_complete_handover(contract, handover)
    context = _context(company, client=party(client),
                       contract=await contract_facts(uow, contract, today, city=city),
                       handover=handover)
    return await _render(template, context, fmt, f"{template}-{contract.number}")


async def amendment_document(uow: ContractsUnitOfWork, actor: Principal,
                             amendment_id: uuid.UUID, fmt: Format, company: docs.CompanyCard,
                             city: str, today: date) -> Rendered:
    amendment = await uow.amendment(amendment_id)
    template = AMENDMENT_TEMPLATES.get(amendment.kind)
    if template is None:
        raise InvalidInput("kind", f"there is no document template for a {amendment.kind}")
    contract = await uow.contract(amendment.contract_id)
    client = await uow.client(contract.client_id)
    ensure_visible(actor, client)
    ensure_printable(template, contract, client)
    # the contract as it stood before this amendment: the document states the change
    facts = await contract_facts(uow, contract, today, monthly_fee=amendment.previous_fee,
                                 ends_on=amendment.previous_ends_on, city=city)
    context = _context(company, client=party(client), contract=facts,
                       amendment=amendment_facts(amendment))
    return await _render(template, context, fmt,
                         f"{template}-{contract.number}-{amendment.number}")


async def company_card_document(company: docs.CompanyCard, fmt: Format) -> Rendered:
    return await _render("company_card", _context(company), fmt, "company-card")


# --- scans -------------------------------------------------------------------------------------


async def store_upload(uow: ContractsUnitOfWork, storage: FileStorage, actor: Principal, *,
                       client: Client, kind: DocumentKind, filename: str | None,
                       declared_type: str | None, data: bytes, limit: int,
                       contract_id: uuid.UUID | None = None,
                       claim_id: uuid.UUID | None = None,
                       on_stored: Callable[[StoredDocument], None] | None = None
                       ) -> StoredDocument:
    """Check, store and record an upload; the file and its row exist together or not at all.

    Call inside the caller's unit of work; it commits.
    """
    content_type = check_upload(declared_type, data[:16], len(data), limit)
    document_id = uuid.uuid4()
    key = f"{client.id}/{document_id}{EXTENSIONS[content_type]}"
    clean_name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    stored = StoredDocument(
        id=document_id, client_id=client.id, kind=kind,
        filename=clean_name or f"{kind}{EXTENSIONS[content_type]}",
        content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key, contract_id=contract_id, claim_id=claim_id,
        uploaded_by=actor.username)
    uow.add(stored)
    uow.emit(ev.DocumentUploaded(document_id=stored.id, client_id=client.id,
                                 contract_id=contract_id, claim_id=claim_id, kind=str(kind),
                                 filename=stored.filename, content_type=content_type,
                                 size=stored.size))
    uow.audit("document.uploaded", "document", stored.id, after=snapshot(stored))
    if on_stored is not None:
        on_stored(stored)
    await storage.put(key, data)
    try:
        await uow.commit()
    except BaseException:
        await storage.delete(key)
        raise
    return stored
