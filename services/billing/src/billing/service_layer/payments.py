"""Payments: by hand or from a 1C bank statement, matched to invoices, balance per client.

A payment is allocated to open invoices (``payment_allocation``); what is not allocated stays
on the client's balance as credit (an over-payment), or, when nobody can tell whose money it is,
the payment waits in the unmatched queue for a person. Invoice states move with what is paid
on them; ``billing.payment.received`` for every payment, ``billing.invoice.paid`` for every
invoice it settles. A statement is imported in one transaction: all of it or nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import pickle
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from billing.adapters.bulk import any_uuid
from billing.adapters.orm import (
    bank_statement,
    client_account,
    invoice,
    payment,
    payment_allocation,
    rent_agreement,
    subscription,
)
from billing.domain import guards
from billing.domain.bank_statement import (
    BankStatement,
    Direction,
    OpenInvoice,
    PaymentDocument,
    StatementFormatError,
    classify,
    extract_invoice_numbers,
    match_payment,
    parse_statement,
)
from billing.domain.ledger import (
    OPEN_STATUSES,
    InvoiceKind,
    InvoiceStatus,
    Owed,
    PaymentSource,
    PaymentStatus,
    Remainder,
    allocate_oldest_first,
    spend_advance,
    status_after,
)
from billing.domain.vat import ZERO
from billing.service_layer.unit_of_work import BillingUnitOfWork
from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, InvalidInput, NotFound
from clientops_shared.events import billing as ev
from clientops_shared.offload import in_worker_process


@dataclass
class OpenRow:
    id: uuid.UUID
    number: str
    client_id: uuid.UUID
    contract_id: uuid.UUID
    client_inn: str
    issued_on: date
    total: Decimal
    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.total - self.paid


def _open_query() -> sa.Select[Any]:
    return (sa.select(invoice.c.id, invoice.c.number, invoice.c.client_id,
                      invoice.c.contract_id, client_account.c.inn, invoice.c.issued_on,
                      invoice.c.total, invoice.c.paid)
            .join(client_account, client_account.c.client_id == invoice.c.client_id,
                  isouter=True)
            .where(invoice.c.kind == str(InvoiceKind.INVOICE),
                   invoice.c.status.in_([str(s) for s in OPEN_STATUSES]))
            .order_by(invoice.c.id)
            .with_for_update(of=invoice))


def _open_rows(rows: Iterable[Any]) -> list[OpenRow]:
    return [OpenRow(r.id, r.number, r.client_id, r.contract_id, r.inn or "", r.issued_on,
                    r.total, r.paid) for r in rows]


async def _lock_open(uow: BillingUnitOfWork, *, client_ids: Sequence[uuid.UUID] = (),
                     numbers: Sequence[str] = (), inns: Sequence[str] = ()) -> list[OpenRow]:
    """The open invoices concerned, locked in id order (no deadlocks between payments)."""
    conds = []
    if client_ids:
        conds.append(invoice.c.client_id.in_(client_ids))
    if numbers:
        conds.append(invoice.c.number.in_(numbers))
    if inns:
        conds.append(client_account.c.inn.in_(inns))
    if not conds:
        return []
    return _open_rows((await uow.session.execute(_open_query().where(sa.or_(*conds)))).all())


@dataclass
class Applied:
    payment_id: uuid.UUID
    client_id: uuid.UUID | None
    allocated: Decimal
    unallocated: Decimal
    allocations: list[tuple[OpenRow, Decimal]]


async def _allocate(uow: BillingUnitOfWork, payment_id: uuid.UUID, paid_on: date,
                    shares: Sequence[tuple[OpenRow, Decimal]]) -> Decimal:
    """Write allocations and move invoice states; InvoicePaid for each settled invoice."""
    shares = [(row, amount) for row, amount in shares if amount > 0]
    if not shares:
        return ZERO
    await uow.session.execute(payment_allocation.insert(), [
        {"payment_id": payment_id, "invoice_id": row.id, "amount": amount}
        for row, amount in shares])
    for row, amount in shares:
        row.paid += amount
        status = status_after(row.total, row.paid)
        await uow.session.execute(invoice.update().where(invoice.c.id == row.id).values(
            paid=row.paid, status=str(status),
            paid_on=paid_on if status is InvoiceStatus.PAID else None))
        if status is InvoiceStatus.PAID:
            uow.emit(ev.InvoicePaid(invoice_id=row.id, number=row.number,
                                    client_id=row.client_id, paid_on=paid_on, total=row.total,
                                    contract_id=row.contract_id))
    return sum((amount for _, amount in shares), ZERO)


def _received(payment_id: uuid.UUID, client_id: uuid.UUID | None, amount: Decimal,
              paid_on: date, reference: str, payer_inn: str | None,
              allocations: Sequence[tuple[OpenRow, Decimal]], matched: bool) -> ev.PaymentReceived:
    allocated = sum((a for _, a in allocations), ZERO)
    return ev.PaymentReceived(
        payment_id=payment_id, client_id=client_id,
        invoice_id=allocations[0][0].id if allocations else None, amount=amount,
        paid_on=paid_on, reference=reference, payer_inn=payer_inn, allocated=allocated,
        unallocated=amount - allocated, matched=matched)


async def _clients_by_inn(uow: BillingUnitOfWork, inns: Iterable[str]
                          ) -> dict[str, list[uuid.UUID]]:
    inns = [i for i in set(inns) if i]
    out: dict[str, list[uuid.UUID]] = {}
    if not inns:
        return out
    for r in await uow.session.execute(sa.select(client_account.c.inn, client_account.c.client_id)
                                       .where(client_account.c.inn.in_(inns))):
        out.setdefault(r.inn, []).append(r.client_id)
    return out


async def record_payment(uow: BillingUnitOfWork, actor: Principal, *,
                         invoice_id: uuid.UUID | None, payer_inn: str | None, amount: Decimal,
                         paid_on: date, reference: str) -> dict[str, Any]:
    """A payment entered by hand: to the invoice named, else by payer INN, else unmatched."""
    guards.past_date("paid_on", paid_on, uow.rules.today(), "Дата оплаты")
    payment_id = uuid.uuid4()
    client_id: uuid.UUID | None = None
    shares: list[tuple[OpenRow, Decimal]] = []
    method: str | None
    note = None
    if invoice_id is not None:
        target = (await uow.session.execute(sa.select(
            invoice.c.id, invoice.c.client_id, invoice.c.kind, invoice.c.status,
            client_account.c.inn).join(client_account, client_account.c.client_id ==
                                       invoice.c.client_id, isouter=True)
            .where(invoice.c.id == invoice_id))).first()
        if target is None:
            raise InvalidInput("invoice_id", f"no invoice {invoice_id}")
        if target.kind != InvoiceKind.INVOICE:
            raise InvalidInput("invoice_id", "a credit note is not paid")
        if payer_inn is not None and target.inn and payer_inn != target.inn:
            raise InvalidInput("payer_inn", f"the invoice's client has INN {target.inn}")
        client_id, method = target.client_id, "invoice"
        rows = [r for r in await _lock_open(uow, client_ids=[client_id]) if r.id == invoice_id]
        if rows:
            shares = [(rows[0], min(amount, rows[0].outstanding))]
        else:
            note = f"invoice is {target.status}: the whole amount is held as the client's credit"
    elif payer_inn is not None:
        clients = (await _clients_by_inn(uow, [payer_inn])).get(payer_inn, [])
        if len(clients) == 1:
            client_id, method = clients[0], "payer_inn"
            owed = await _lock_open(uow, client_ids=clients)
            by_id = {r.id: r for r in owed}
            picked, _ = allocate_oldest_first(amount, [
                Owed(r.id, r.issued_on, r.number, r.outstanding) for r in owed])
            exact = [r for r in owed if r.outstanding == amount]
            if len(exact) == 1:
                shares = [(exact[0], amount)]
            else:
                shares = [(by_id[s.invoice_id], s.amount) for s in picked]  # type: ignore[index]
        else:
            method = None
            note = ("no client with this INN" if not clients
                    else "several clients share this INN")
    else:
        method, note = None, "neither invoice_id nor payer_inn given"
    status = PaymentStatus.MATCHED if client_id is not None else PaymentStatus.UNMATCHED
    await uow.session.execute(payment.insert().values(
        id=payment_id, source=str(PaymentSource.MANUAL), amount=amount, paid_on=paid_on,
        payer_inn=payer_inn, purpose=None, reference=reference, client_id=client_id,
        status=str(status), match_method=method, note=note, created_by=actor.username))
    allocated = await _allocate(uow, payment_id, paid_on, shares)
    uow.emit(_received(payment_id, client_id, amount, paid_on, reference, payer_inn, shares,
                       client_id is not None))
    uow.audit("payment.recorded", "payment", payment_id,
              after={"amount": amount, "invoice_id": invoice_id, "payer_inn": payer_inn,
                     "reference": reference, "allocated": allocated})
    return {"id": str(payment_id), "status": str(status), "client_id": client_id,
            "amount": amount, "allocated": allocated, "unallocated": amount - allocated,
            "allocations": [{"invoice_id": r.id, "number": r.number, "amount": a}
                            for r, a in shares if a > 0],
            "note": note}


def _bank_key(doc: PaymentDocument) -> str:
    """One payment order, however many statements it appears in."""
    payer = doc.payer.account or doc.payer.inn or doc.payer.name
    return f"{doc.document_date.isoformat()}|{doc.number}|{doc.amount}|{payer}"


PARSED_CHUNK = 1000  # documents unpickled at a time on the loop (milliseconds each)


def _parse_in_worker(data: bytes) -> tuple[BankStatement, list[bytes]]:
    """In the worker process: the statement without its raw ``Key=Value`` maps (nothing
    downstream reads them), its documents pickled in chunks."""
    statement = parse_statement(data)
    documents = [replace(d, fields={}) for d in statement.documents]
    chunks = [pickle.dumps(documents[i:i + PARSED_CHUNK])
              for i in range(0, len(documents), PARSED_CHUNK)]
    return replace(statement, documents=(), header={}), chunks


async def _parse_off_the_loop(data: bytes) -> BankStatement:
    """Parse in a worker process; bring the documents back a chunk at a time — one
    ``pickle.loads`` of a 20 MB statement's documents would hold the GIL for seconds."""
    head, chunks = await in_worker_process(_parse_in_worker, data)
    documents: list[PaymentDocument] = []
    for chunk in chunks:
        documents.extend(pickle.loads(chunk))  # our own worker's output
        await asyncio.sleep(0)
    return replace(head, documents=tuple(documents))


async def import_statement(uow: BillingUnitOfWork, actor: Principal, data: bytes,
                           filename: str | None, *, our_accounts: set[str], our_inn: str
                           ) -> tuple[bool, dict[str, Any]]:
    """Import a 1C statement; (False, earlier summary) for a file imported before."""
    # hashlib lets go of the GIL on large inputs: a thread keeps 20 MB off the loop
    digest = (await asyncio.to_thread(hashlib.sha256, data)).hexdigest()
    earlier = (await uow.session.execute(sa.select(bank_statement.c.id, bank_statement.c.summary)
                                         .where(bank_statement.c.sha256 == digest))).first()
    if earlier is not None:
        return False, {**earlier.summary, "id": str(earlier.id), "duplicate": True}
    try:
        # CPU work (a 20 MB file parses for seconds): in a worker process — a thread would
        # hold the GIL and starve the loop
        statement = await _parse_off_the_loop(data)
    except StatementFormatError as exc:
        raise InvalidInput("file", str(exc)) from None
    accounts = our_accounts | set(statement.accounts)
    statement_id = uuid.uuid4()
    claimed = (await uow.session.execute(insert(bank_statement).values(
        id=statement_id, sha256=digest, filename=filename, encoding=statement.encoding,
        date_from=statement.date_from, date_to=statement.date_to, summary={},
        imported_by=actor.username).on_conflict_do_nothing().returning(bank_statement.c.id)
    )).first()
    if claimed is None:  # the same file, imported concurrently, committed first
        return False, {"duplicate": True, "sha256": digest}

    incoming = [d for d in statement.documents
                if classify(d, accounts, our_inn) is Direction.INCOMING]
    outgoing = [d for d in statement.documents
                if classify(d, accounts, our_inn) is Direction.OUTGOING]
    keys = {_bank_key(d): d for d in incoming}
    seen = set((await uow.session.execute(sa.select(payment.c.bank_key).where(
        payment.c.bank_key.in_(list(keys))))).scalars()) if keys else set()
    fresh = [d for d in incoming if _bank_key(d) not in seen]
    numbers = sorted({n for d in fresh for n in extract_invoice_numbers(d.purpose)})
    inns = sorted({d.payer_inn for d in fresh if d.payer_inn})
    owed = {r.number: r for r in await _lock_open(uow, numbers=numbers, inns=inns)}
    by_inn = await _clients_by_inn(uow, inns)

    results: list[dict[str, Any]] = []
    counts = {"matched": 0, "partial": 0, "overpaid": 0, "unmatched": 0}
    for doc in fresh:
        open_now = [OpenInvoice(r.number, r.client_inn, r.issued_on, r.outstanding)
                    for r in owed.values() if r.outstanding > 0]
        match = match_payment(doc, open_now)
        shares = [(owed[a.invoice_number], a.amount) for a in match.allocations]
        client_id: uuid.UUID | None = shares[0][0].client_id if shares else None
        method: str | None = str(match.method) if match.matched else None
        note = "; ".join(match.notes) or None
        if client_id is None and doc.payer_inn and len(by_inn.get(doc.payer_inn, [])) == 1:
            # a known client with nothing open: an advance, held as the client's credit
            client_id, method = by_inn[doc.payer_inn][0], "client_credit"
            note = "; ".join(filter(None, [note, match.unmatched_reason]))
        elif client_id is None:
            note = "; ".join(filter(None, [note, match.unmatched_reason]))
        status = PaymentStatus.MATCHED if client_id is not None else PaymentStatus.UNMATCHED
        payment_id = uuid.uuid4()
        reference = f"п/п № {doc.number} от {doc.document_date:%d.%m.%Y}"
        await uow.session.execute(payment.insert().values(
            id=payment_id, source=str(PaymentSource.BANK_STATEMENT), bank_key=_bank_key(doc),
            statement_id=statement_id, amount=doc.amount,
            paid_on=doc.received_on or doc.document_date, payer_inn=doc.payer_inn,
            payer_name=doc.payer.name, purpose=doc.purpose, reference=reference,
            client_id=client_id, status=str(status), match_method=method, note=note or None,
            created_by=actor.username))
        allocated = await _allocate(uow, payment_id, doc.received_on or doc.document_date,
                                    shares)
        uow.emit(_received(payment_id, client_id, doc.amount,
                           doc.received_on or doc.document_date, reference, doc.payer_inn,
                           shares, client_id is not None))
        if status is PaymentStatus.UNMATCHED:
            outcome = "unmatched"
        elif allocated < doc.amount:
            outcome = "overpaid"
        elif any(r.outstanding > 0 for r, _ in shares):
            outcome = "partial"
        else:
            outcome = "matched"
        counts[outcome] += 1
        results.append({"payment_id": str(payment_id), "number": doc.number,
                        "line": doc.line_no, "amount": str(doc.amount),
                        "payer_inn": doc.payer_inn, "outcome": outcome, "method": method,
                        "allocated": str(allocated),
                        "invoices": [r.number for r, a in shares if a > 0], "note": note})
    summary = {"sha256": digest, "filename": filename, "encoding": statement.encoding,
               "documents": len(statement.documents), "incoming": len(incoming),
               "outgoing": len(outgoing), "already_imported": len(incoming) - len(fresh),
               **counts, "payments": results}
    await uow.session.execute(bank_statement.update().where(bank_statement.c.id == statement_id)
                              .values(summary=summary))
    uow.audit("bank_statement.imported", "bank_statement", statement_id,
              after={k: v for k, v in summary.items() if k != "payments"})
    return True, {**summary, "id": str(statement_id), "duplicate": False}


async def _payment_row(uow: BillingUnitOfWork, payment_id: uuid.UUID) -> sa.RowMapping:
    row = (await uow.session.execute(sa.select(payment).where(payment.c.id == payment_id)
                                     .with_for_update())).mappings().first()
    if row is None:
        raise NotFound(f"payment {payment_id} not found")
    return row


async def unallocated(uow: BillingUnitOfWork, payment_id: uuid.UUID, amount: Decimal) -> Decimal:
    used = (await uow.session.execute(sa.select(sa.func.coalesce(
        sa.func.sum(payment_allocation.c.amount), 0)).where(
        payment_allocation.c.payment_id == payment_id))).scalar_one()
    return amount - used


async def match_manually(uow: BillingUnitOfWork, actor: Principal, payment_id: uuid.UUID, *,
                         invoice_id: uuid.UUID | None, client_id: uuid.UUID | None
                         ) -> dict[str, Any]:
    """A person says whose money it is: an invoice (its client), or a client (oldest first)."""
    row = await _payment_row(uow, payment_id)
    left = await unallocated(uow, payment_id, row["amount"])
    if left <= 0:
        raise Conflict("this payment is fully allocated already", current_state=row["status"])
    if invoice_id is not None:
        target = (await uow.session.execute(sa.select(invoice.c.client_id, invoice.c.kind).where(
            invoice.c.id == invoice_id))).first()
        if target is None:
            raise InvalidInput("invoice_id", f"no invoice {invoice_id}")
        if target.kind != InvoiceKind.INVOICE:
            raise InvalidInput("invoice_id", "a credit note is not paid")
        owner = target.client_id
    elif client_id is not None:
        if await uow.client_account(client_id) is None:
            raise InvalidInput("client_id", f"no client {client_id}")
        owner = client_id
    else:
        raise InvalidInput("invoice_id", "name the invoice or the client the payment is from")
    if row["client_id"] is not None and row["client_id"] != owner:
        raise Conflict("the payment already belongs to another client",
                       current_state=row["status"])
    owed = await _lock_open(uow, client_ids=[owner])
    if invoice_id is not None:
        owed = [r for r in owed if r.id == invoice_id]
        if not owed:
            raise Conflict("the invoice is not open (paid or cancelled)", field="invoice_id")
    by_id = {r.id: r for r in owed}
    picked, _ = allocate_oldest_first(left, [Owed(r.id, r.issued_on, r.number, r.outstanding)
                                             for r in owed])
    shares = [(by_id[s.invoice_id], s.amount) for s in picked]  # type: ignore[index]
    allocated = await _allocate(uow, payment_id, row["paid_on"], shares)
    await uow.session.execute(payment.update().where(payment.c.id == payment_id).values(
        client_id=owner, status=str(PaymentStatus.MATCHED),
        match_method=row["match_method"] or "manual"))
    if row["status"] == PaymentStatus.UNMATCHED:
        # the client learns of the payment now that it is known whose it is
        uow.emit(_received(payment_id, owner, row["amount"], row["paid_on"], row["reference"],
                           row["payer_inn"], shares, True))
    uow.audit("payment.matched", "payment", payment_id,
              before={"status": row["status"], "client_id": row["client_id"]},
              after={"client_id": owner, "invoice_id": invoice_id, "allocated": allocated})
    return {"id": str(payment_id), "status": str(PaymentStatus.MATCHED), "client_id": owner,
            "amount": row["amount"], "allocated": allocated,
            "unallocated": left - allocated,
            "allocations": [{"invoice_id": r.id, "number": r.number, "amount": a}
                            for r, a in shares]}


def _not_rent() -> sa.ColumnElement[bool]:
    """Invoices a subscriber owes us. A rent contract is money we pay the site owner: an
    invoice one produced in error is never paid from anybody's advance (it is cancelled)."""
    return sa.and_(
        invoice.c.contract_id.not_in(
            sa.select(subscription.c.contract_id).where(subscription.c.kind == "rent")),
        invoice.c.contract_id.not_in(
            sa.select(rent_agreement.c.contract_id).where(
                rent_agreement.c.contract_id.is_not(None))))


async def _remainders(uow: BillingUnitOfWork, client_ids: Sequence[uuid.UUID]
                      ) -> dict[uuid.UUID, list[Remainder]]:
    """Per client, what is left of their matched payments (the advance), payments locked."""
    if not client_ids:
        return {}
    # lock first, then read what is left in a statement of its own: its snapshot sees the
    # allocations of whoever held a lock before us (an over-application is never possible)
    ids = list((await uow.session.execute(
        sa.select(payment.c.id).where(payment.c.client_id.in_(sorted(set(client_ids))),
                                      payment.c.status == str(PaymentStatus.MATCHED))
        .order_by(payment.c.id).with_for_update())).scalars())
    if not ids:
        return {}
    used = (sa.select(payment_allocation.c.payment_id,
                      sa.func.sum(payment_allocation.c.amount).label("used"))
            .where(payment_allocation.c.payment_id.in_(ids))
            .group_by(payment_allocation.c.payment_id).subquery())
    left = payment.c.amount - sa.func.coalesce(used.c.used, 0)
    rows = (await uow.session.execute(
        sa.select(payment.c.id, payment.c.client_id, payment.c.paid_on, left.label("left"))
        .join(used, used.c.payment_id == payment.c.id, isouter=True)
        .where(payment.c.id.in_(ids), left > 0).order_by(payment.c.id))).all()
    out: dict[uuid.UUID, list[Remainder]] = {}
    for r in rows:
        if r.left > 0:
            out.setdefault(r.client_id, []).append(Remainder(r.id, r.paid_on, r.left))
    return out


async def _spend(uow: BillingUnitOfWork, remainders: Sequence[Remainder],
                 owed: Sequence[OpenRow]) -> list[tuple[uuid.UUID, OpenRow, Decimal]]:
    """Allocate the advance to these open invoices; the invoice is paid on the day it is
    applied (the money came earlier, the invoice did not exist then)."""
    by_id = {r.id: r for r in owed}
    shares = spend_advance(remainders, [Owed(r.id, r.issued_on, r.number, r.outstanding)
                                        for r in owed])
    done: list[tuple[uuid.UUID, OpenRow, Decimal]] = []
    for share in shares:
        row = by_id[share.invoice_id]  # type: ignore[index]
        await _allocate(uow, share.payment_id, uow.rules.today(),  # type: ignore[arg-type]
                        [(row, share.amount)])
        done.append((share.payment_id, row, share.amount))  # type: ignore[arg-type]
    return done


def _applied(client_id: uuid.UUID, done: Sequence[tuple[uuid.UUID, OpenRow, Decimal]],
             credit: Decimal) -> dict[str, Any]:
    spent = sum((a for _, _, a in done), ZERO)
    return {"client_id": client_id, "applied": spent, "credit_left": credit - spent,
            "allocations": [{"payment_id": p, "invoice_id": r.id, "number": r.number,
                             "amount": a} for p, r, a in done]}


async def apply_credit(uow: BillingUnitOfWork, actor: Principal, client_id: uuid.UUID,
                       invoice_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Spend a client's advance (what is left of their matched payments) on their open
    invoices, oldest first, or on the one invoice named. Never more than the advance, never
    more than is owed, never on an invoice of another client or of a rent contract."""
    if await uow.client_account(client_id) is None:
        raise NotFound("Клиент не найден в биллинге.")
    remainders = (await _remainders(uow, [client_id])).get(client_id, [])
    credit = sum((r.left for r in remainders), ZERO)
    if invoice_id is not None:
        target = (await uow.session.execute(sa.select(
            invoice.c.client_id, invoice.c.kind, invoice.c.status, invoice.c.number)
            .where(invoice.c.id == invoice_id))).first()
        if target is None or target.client_id != client_id:
            raise InvalidInput("invoice_id", "Выберите счёт этого клиента из списка.")
        if target.kind != InvoiceKind.INVOICE:
            raise InvalidInput("invoice_id", "Кредит-ноту не оплачивают — выберите счёт.")
        if credit <= 0:
            raise Conflict("У клиента нет аванса: все его оплаты уже разнесены по счетам.",
                           field="invoice_id")
    owed = _open_rows((await uow.session.execute(_open_query().where(
        invoice.c.client_id == client_id, _not_rent()))).all())
    if invoice_id is not None:
        owed = [r for r in owed if r.id == invoice_id]
        if not owed:
            raise Conflict(f"Счёт № {target.number} не ждёт оплаты (оплачен, аннулирован или "
                           "выставлен по договору аренды).", field="invoice_id")
    done = await _spend(uow, remainders, owed)
    result = _applied(client_id, done, credit)
    uow.audit("client.credit_applied", "client", client_id,
              after={"applied": result["applied"], "invoice_id": invoice_id,
                     "invoices": [r.number for _, r, _ in done], "automatic": False})
    return result


async def apply_advance_to_new(uow: BillingUnitOfWork, new: Mapping[uuid.UUID, uuid.UUID]
                               ) -> dict[uuid.UUID, Decimal]:
    """Newly issued invoices (``new``: invoice id → client id) are paid from their clients'
    advances at once (unless the ``auto_apply_advance`` setting is off).

    One query finds the few clients holding an advance; only their new invoices are read,
    locked and touched (a rent contract's never). A run's batch of thousands of invoices,
    whose clients mostly hold none, costs that one query."""
    if not new or not uow.rules.auto_apply_advance:
        return {}
    # which of these clients hold an advance at all (no locks: a run touches thousands)
    used = sa.func.coalesce(sa.select(sa.func.sum(payment_allocation.c.amount)).where(
        payment_allocation.c.payment_id == payment.c.id).scalar_subquery(), 0)
    holders = set((await uow.session.execute(
        sa.select(payment.c.client_id).distinct()
        .where(payment.c.client_id == any_uuid(list(set(new.values()))),
               payment.c.status == str(PaymentStatus.MATCHED), payment.c.amount > used)
    )).scalars())
    if not holders:
        return {}
    fresh = _open_rows((await uow.session.execute(_open_query().where(
        invoice.c.id == any_uuid([i for i, client in new.items() if client in holders]),
        _not_rent()))).all())
    if not fresh:
        return {}
    holders &= {r.client_id for r in fresh}
    advances = await _remainders(uow, sorted(holders))
    paid: dict[uuid.UUID, Decimal] = {}
    for client_id in sorted(advances):
        mine = [r for r in fresh if r.client_id == client_id]
        done = await _spend(uow, advances[client_id], mine)
        if done:
            applied = sum((a for _, _, a in done), ZERO)
            for _, row, amount in done:
                paid[row.id] = paid.get(row.id, ZERO) + amount
            uow.audit("client.credit_applied", "client", client_id,
                      after={"applied": applied, "invoices": [r.number for _, r, _ in done],
                             "automatic": True})
    return paid
