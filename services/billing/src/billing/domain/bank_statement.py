"""Bank statements in 1C's ``1CClientBankExchange`` text format, and matching payments.

Parsing takes bytes (the encoding is named in the file itself), classifying tells client
payments from our own payouts, matching allocates a client payment to open invoices.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol

from billing.domain.invoicing import INVOICE_NUMBER_PREFIX
from billing.domain.vat import ZERO
from clientops_shared.types import parse_money

FILE_MARKER = "1CClientBankExchange"
ENCODING_KEY = "Кодировка"
SECTION_ACCOUNT = "СекцияРасчСчет"
END_ACCOUNT = "КонецРасчСчет"
SECTION_DOCUMENT = "СекцияДокумент"
END_DOCUMENT = "КонецДокумента"
END_FILE = "КонецФайла"

ENCODINGS: Mapping[str, str] = MappingProxyType({"windows": "cp1251", "dos": "cp866"})
"""``Кодировка=`` values the format defines, and the Python codecs they mean."""

_AMOUNT_RE = re.compile(r"\d+(\.\d{1,2})?")
_DATE_RE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})")
_INN_PREFIX_RE = re.compile(r"^ИНН\s+\d+\s+")


class StatementFormatError(ValueError):
    """The file is not a well-formed 1C statement; ``line_no`` is 1-based."""

    def __init__(self, message: str, line_no: int) -> None:
        super().__init__(f"line {line_no}: {message}")
        self.message = message
        self.line_no = line_no

    def __reduce__(self) -> tuple[type[StatementFormatError], tuple[str, int]]:
        # raised in a worker process, re-raised here: pickled with both arguments
        return type(self), (self.message, self.line_no)


@dataclass(frozen=True)
class Party:
    """A payer or payee as the payment order names it."""

    name: str
    inn: str | None
    kpp: str | None
    account: str | None
    bic: str | None
    bank: str | None


@dataclass(frozen=True)
class AccountSection:
    """``СекцияРасчСчет``: one account's balances over the statement's dates."""

    account: str
    date_from: date | None
    date_to: date | None
    opening_balance: Decimal | None
    total_received: Decimal | None
    total_written_off: Decimal | None
    closing_balance: Decimal | None


@dataclass(frozen=True)
class PaymentDocument:
    """``СекцияДокумент``: one payment order (or other document) in the statement."""

    kind: str
    number: str
    document_date: date
    amount: Decimal
    payer: Party
    payee: Party
    purpose: str
    received_on: date | None
    written_off_on: date | None
    line_no: int
    fields: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Every ``Key=Value`` of the section, as read."""

    @property
    def payer_inn(self) -> str | None:
        return self.payer.inn


@dataclass(frozen=True)
class BankStatement:
    format_version: str | None
    encoding: str
    sender: str | None
    receiver: str | None
    created_on: date | None
    date_from: date | None
    date_to: date | None
    accounts: tuple[str, ...]
    """The accounts the statement is for (``РасчСчет=`` in the header and the sections)."""
    account_sections: tuple[AccountSection, ...]
    documents: tuple[PaymentDocument, ...]
    header: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)


# -- parsing ---------------------------------------------------------------------------------


def _detect_encoding(data: bytes) -> str:
    """The codec named by ``Кодировка=``; the key's own bytes tell which charset it is in."""
    lines = data.split(b"\n")
    for line_no, raw in enumerate(lines, start=1):
        for codec in ENCODINGS.values():
            key = f"{ENCODING_KEY}=".encode(codec)
            if raw.startswith(key):
                value = raw[len(key) :].strip().decode("ascii", errors="replace")
                named = ENCODINGS.get(value.lower())
                if named is None:
                    raise StatementFormatError(
                        f"unknown encoding {ENCODING_KEY}={value!r}; expected Windows or DOS",
                        line_no,
                    )
                if named != codec:
                    raise StatementFormatError(
                        f"{ENCODING_KEY}={value} but the file itself is written in {codec}",
                        line_no,
                    )
                return named
    # the format puts it in the header, right after the version
    raise StatementFormatError(
        f"no {ENCODING_KEY}=Windows or {ENCODING_KEY}=DOS line: cannot tell the encoding", 2
    )


def _decode(data: bytes, codec: str) -> list[str]:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line_no = data.count(b"\n", 0, exc.start) + 1
        raise StatementFormatError(
            f"byte {data[exc.start]:#04x} is not valid {codec}", line_no
        ) from None
    # CRLF or LF; a stray CR at the end of a line is not part of the value
    return [line.rstrip("\r") for line in text.split("\n")]


def _parse_date(value: str, key: str, line_no: int) -> date:
    match = _DATE_RE.fullmatch(value)
    if match is None:
        raise StatementFormatError(f"{key}={value!r} is not a date DD.MM.YYYY", line_no)
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise StatementFormatError(f"{key}={value!r} is not a real date", line_no) from None


def _parse_amount(value: str, key: str, line_no: int) -> Decimal:
    if _AMOUNT_RE.fullmatch(value) is None:
        raise StatementFormatError(
            f"{key}={value!r} is not an amount like 15250.00 (digits, a dot, kopecks)", line_no
        )
    return parse_money(value)


class _Fields:
    """A section's ``Key=Value`` lines, remembering where each came from."""

    def __init__(self, start_line: int) -> None:
        self.start_line = start_line
        self.values: dict[str, tuple[str, int]] = {}
        self.repeated: dict[str, list[str]] = {}

    def add(self, key: str, value: str, line_no: int) -> None:
        self.values[key] = (value, line_no)
        self.repeated.setdefault(key, []).append(value)

    def text(self, key: str) -> str | None:
        found = self.values.get(key)
        return found[0] if found and found[0] else None

    def required(self, key: str, section: str) -> tuple[str, int]:
        found = self.values.get(key)
        if found is None:
            raise StatementFormatError(f"{section} has no {key}=", self.start_line)
        if not found[0]:
            raise StatementFormatError(f"{key}= is empty in {section}", found[1])
        return found

    def date(self, key: str) -> date | None:
        found = self.values.get(key)
        if found is None or not found[0]:
            return None
        return _parse_date(found[0], key, found[1])

    def amount(self, key: str) -> Decimal | None:
        found = self.values.get(key)
        if found is None or not found[0]:
            return None
        return _parse_amount(found[0], key, found[1])

    def plain(self) -> Mapping[str, str]:
        return MappingProxyType({key: value for key, (value, _) in self.values.items()})


def _party(fields: _Fields, role: str) -> Party:
    name = fields.text(f"{role}1")
    if name is None:
        # «Плательщик» may start with «ИНН 7707083893 »; «Плательщик1» is the bare name
        name = _INN_PREFIX_RE.sub("", fields.text(role) or "")
    inn = fields.text(f"{role}ИНН")
    return Party(
        name=name,
        inn=inn if inn and inn.strip("0") else None,
        kpp=fields.text(f"{role}КПП"),
        account=fields.text(f"{role}Счет") or fields.text(f"{role}РасчСчет"),
        bic=fields.text(f"{role}БИК"),
        bank=fields.text(f"{role}Банк1"),
    )


def _purpose(fields: _Fields) -> str:
    whole = fields.text("НазначениеПлатежа")
    if whole is not None:
        return whole
    # some exports split the purpose over НазначениеПлатежа1…6
    parts = (fields.text(f"НазначениеПлатежа{index}") for index in range(1, 7))
    return " ".join(part for part in parts if part)


def _document(kind: str, fields: _Fields) -> PaymentDocument:
    section = f"{SECTION_DOCUMENT}={kind} at line {fields.start_line}"
    number, _ = fields.required("Номер", section)
    date_text, date_line = fields.required("Дата", section)
    amount_text, amount_line = fields.required("Сумма", section)
    return PaymentDocument(
        kind=kind,
        number=number,
        document_date=_parse_date(date_text, "Дата", date_line),
        amount=_parse_amount(amount_text, "Сумма", amount_line),
        payer=_party(fields, "Плательщик"),
        payee=_party(fields, "Получатель"),
        purpose=_purpose(fields),
        received_on=fields.date("ДатаПоступило"),
        written_off_on=fields.date("ДатаСписано"),
        line_no=fields.start_line,
        fields=fields.plain(),
    )


def _account_section(fields: _Fields) -> AccountSection:
    account, _ = fields.required("РасчСчет", f"{SECTION_ACCOUNT} at line {fields.start_line}")
    return AccountSection(
        account=account,
        date_from=fields.date("ДатаНачала"),
        date_to=fields.date("ДатаКонца"),
        opening_balance=fields.amount("НачальныйОстаток"),
        total_received=fields.amount("ВсегоПоступило"),
        total_written_off=fields.amount("ВсегоСписано"),
        closing_balance=fields.amount("КонечныйОстаток"),
    )


def _split(line: str, line_no: int) -> tuple[str, str]:
    key, sep, value = line.partition("=")
    if not sep or not key.strip():
        raise StatementFormatError(f"expected Key=Value, got {line!r}", line_no)
    return key.strip(), value.strip()


def parse_statement(data: bytes) -> BankStatement:
    """Parse a whole ``1CClientBankExchange`` file; any defect raises StatementFormatError."""
    first = data.split(b"\n", 1)[0].rstrip(b"\r").strip()
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    if first != FILE_MARKER.encode("ascii"):
        raise StatementFormatError(f"not a 1C statement: the first line must be {FILE_MARKER}", 1)
    codec = _detect_encoding(data)
    lines = _decode(data, codec)

    header = _Fields(1)
    sections: list[AccountSection] = []
    documents: list[PaymentDocument] = []
    # the open section: None in the header, else (kind, fields, end marker)
    open_section: tuple[str, _Fields, str] | None = None
    finished = False

    for line_no, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line:
            continue
        key = line.partition("=")[0].strip()
        starts = line == SECTION_ACCOUNT or key == SECTION_DOCUMENT
        ends = line in (END_ACCOUNT, END_DOCUMENT, END_FILE)
        if open_section is not None:
            kind, fields, end = open_section
            if line == end:
                if end == END_DOCUMENT:
                    documents.append(_document(kind, fields))
                else:
                    sections.append(_account_section(fields))
                open_section = None
            elif starts or ends:
                opened = f"{SECTION_DOCUMENT}={kind}" if end == END_DOCUMENT else SECTION_ACCOUNT
                raise StatementFormatError(
                    f"{opened} opened at line {fields.start_line} is not closed by {end} "
                    f"before {line}",
                    line_no,
                )
            else:
                fields.add(*_split(line, line_no), line_no)
        elif line == SECTION_ACCOUNT:
            open_section = ("", _Fields(line_no), END_ACCOUNT)
        elif key == SECTION_DOCUMENT:
            open_section = (line.partition("=")[2].strip(), _Fields(line_no), END_DOCUMENT)
        elif line == END_FILE:
            finished = True
            break  # whatever follows the end marker is not part of the statement
        elif ends:
            raise StatementFormatError(f"{line} without a section to close", line_no)
        else:
            header.add(*_split(line, line_no), line_no)

    if open_section is not None:
        _, fields, end = open_section
        raise StatementFormatError(
            f"section opened at line {fields.start_line} is not closed by {end}: file truncated?",
            len(lines),
        )
    if not finished:
        raise StatementFormatError(f"no {END_FILE}: the file is truncated", len(lines))

    accounts = list(header.repeated.get("РасчСчет", []))
    for section in sections:
        if section.account not in accounts:
            accounts.append(section.account)
    return BankStatement(
        format_version=header.text("ВерсияФормата"),
        encoding=codec,
        sender=header.text("Отправитель"),
        receiver=header.text("Получатель"),
        created_on=header.date("ДатаСоздания"),
        date_from=header.date("ДатаНачала"),
        date_to=header.date("ДатаКонца"),
        accounts=tuple(account for account in accounts if account),
        account_sections=tuple(sections),
        documents=tuple(documents),
        header=header.plain(),
    )


# -- classifying -----------------------------------------------------------------------------


class Direction(StrEnum):
    INCOMING = "incoming"
    """Money to us from someone else: a candidate client payment."""
    OUTGOING = "outgoing"
    """Our payout (rent, suppliers): never a client payment."""
    INTERNAL = "internal"
    """Between two of our own accounts."""
    UNRELATED = "unrelated"
    """Neither side is ours: the statement is not for our accounts."""


def classify(
    document: PaymentDocument, our_accounts: Collection[str], our_inn: str | None = None
) -> Direction:
    """Which way the money went, judged by our account numbers and, if given, our INN."""

    def ours(party: Party) -> bool:
        return (party.account is not None and party.account in our_accounts) or (
            our_inn is not None and party.inn == our_inn
        )

    payer_ours, payee_ours = ours(document.payer), ours(document.payee)
    if payer_ours and payee_ours:
        return Direction.INTERNAL
    if payee_ours:
        return Direction.INCOMING
    if payer_ours:
        return Direction.OUTGOING
    return Direction.UNRELATED


def documents_by_direction(
    statement: BankStatement,
    direction: Direction,
    our_inn: str | None = None,
    our_accounts: Collection[str] | None = None,
) -> tuple[PaymentDocument, ...]:
    """Documents going one way; our accounts default to those the statement is for."""
    accounts = set(statement.accounts if our_accounts is None else our_accounts)
    return tuple(
        document
        for document in statement.documents
        if classify(document, accounts, our_inn) is direction
    )


def incoming_payments(
    statement: BankStatement,
    our_inn: str | None = None,
    our_accounts: Collection[str] | None = None,
) -> tuple[PaymentDocument, ...]:
    """The candidate client payments: money in from others, never our payouts."""
    return documents_by_direction(statement, Direction.INCOMING, our_inn, our_accounts)


# -- matching --------------------------------------------------------------------------------

# «СЧ-2026-12-0001», «№ СЧ-2026-12-0001», «сч 2026-12-1»; Latin C for a Cyrillic С is forgiven
_INVOICE_NUMBER_RE = re.compile(
    r"(?<!\w)[СсCc][Чч]\s*[-–—]?\s*(\d{4})\s*[-–—/]\s*(\d{2})\s*[-–—/]\s*(\d{1,6})(?!\d)"
)


def normalize_invoice_number(text: str) -> str | None:
    """An invoice number in canonical form (``СЧ-2026-12-0001``), or None if it is not one."""
    numbers = extract_invoice_numbers(text)
    return numbers[0] if len(numbers) == 1 else None


def extract_invoice_numbers(purpose: str) -> tuple[str, ...]:
    """Our invoice numbers named in a payment purpose, canonical, in order, without repeats."""
    found: list[str] = []
    for match in _INVOICE_NUMBER_RE.finditer(purpose):
        year, month, sequence = match.groups()
        if not 1 <= int(month) <= 12 or int(sequence) == 0:
            continue
        number = f"{INVOICE_NUMBER_PREFIX}-{year}-{month}-{int(sequence):04d}"
        if number not in found:
            found.append(number)
    return tuple(found)


class IncomingPayment(Protocol):
    """What matching needs of a payment; PaymentDocument has it."""

    @property
    def amount(self) -> Decimal: ...

    @property
    def payer_inn(self) -> str | None: ...

    @property
    def purpose(self) -> str: ...


@dataclass(frozen=True)
class OpenInvoice:
    """An issued invoice with money still owed on it."""

    number: str
    client_inn: str
    issued_on: date
    outstanding: Decimal


@dataclass(frozen=True)
class Allocation:
    invoice_number: str
    amount: Decimal


class MatchMethod(StrEnum):
    INVOICE_NUMBER = "invoice_number"
    """The purpose names open invoices."""
    EXACT_AMOUNT = "exact_amount"
    """Payer INN and the exact outstanding amount of one open invoice."""
    OLDEST_FIRST = "oldest_first"
    """Payer INN: the client's oldest open invoices first."""
    UNMATCHED = "unmatched"


@dataclass(frozen=True)
class PaymentMatch:
    """Where a payment goes. ``overpayment`` is credited to the client's balance; an
    unmatched payment allocates nothing and waits for a person (``unmatched_reason``)."""

    method: MatchMethod
    amount: Decimal
    allocations: tuple[Allocation, ...]
    overpayment: Decimal
    client_inn: str | None
    unmatched_reason: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def allocated(self) -> Decimal:
        return sum((allocation.amount for allocation in self.allocations), ZERO)

    @property
    def matched(self) -> bool:
        return self.method is not MatchMethod.UNMATCHED


def _allocate(
    amount: Decimal,
    invoices: Sequence[OpenInvoice],
    method: MatchMethod,
    client_inn: str | None,
    notes: Sequence[str],
) -> PaymentMatch:
    left = amount
    allocations: list[Allocation] = []
    for invoice in invoices:
        if left <= 0:
            break
        share = min(left, invoice.outstanding)
        if share > 0:
            allocations.append(Allocation(invoice.number, share))
            left -= share
    return PaymentMatch(
        method=method,
        amount=amount,
        allocations=tuple(allocations),
        overpayment=left,
        client_inn=client_inn,
        notes=tuple(notes),
    )


def match_payment(payment: IncomingPayment, open_invoices: Iterable[OpenInvoice]) -> PaymentMatch:
    """Allocate an incoming client payment to open invoices.

    1. invoices named in the purpose, in the order named, each up to what is outstanding;
    2. else one open invoice of the payer (by INN) whose outstanding equals the amount;
    3. else the payer's open invoices, oldest first, the last one perhaps partly;
    4. else unmatched.
    Money left after 1–3 is an over-payment for the client's balance.
    """
    amount = payment.amount
    if amount <= 0:
        raise ValueError(f"a payment amount must be positive, got {amount}")
    invoices = [invoice for invoice in open_invoices if invoice.outstanding > 0]
    by_number = {normalize_invoice_number(inv.number) or inv.number: inv for inv in invoices}
    payer_inn = payment.payer_inn
    notes: list[str] = []

    named = extract_invoice_numbers(payment.purpose)
    not_open = [number for number in named if number not in by_number]
    if not_open:
        notes.append(f"named but not open: {', '.join(not_open)}")
    targets = [by_number[number] for number in named if number in by_number]
    if targets:
        client_inn = targets[0].client_inn
        if payer_inn is not None and any(inv.client_inn != payer_inn for inv in targets):
            notes.append(f"payer INN {payer_inn} differs from the named invoices' client")
        return _allocate(amount, targets, MatchMethod.INVOICE_NUMBER, client_inn, notes)

    if payer_inn is None:
        return PaymentMatch(
            method=MatchMethod.UNMATCHED,
            amount=amount,
            allocations=(),
            overpayment=ZERO,
            client_inn=None,
            unmatched_reason="no open invoice named in the purpose and no payer INN",
            notes=tuple(notes),
        )
    own = sorted(
        (invoice for invoice in invoices if invoice.client_inn == payer_inn),
        key=lambda invoice: (invoice.issued_on, invoice.number),
    )
    exact = [invoice for invoice in own if invoice.outstanding == amount]
    if len(exact) == 1:
        return _allocate(amount, exact, MatchMethod.EXACT_AMOUNT, payer_inn, notes)
    if own:
        return _allocate(amount, own, MatchMethod.OLDEST_FIRST, payer_inn, notes)
    return PaymentMatch(
        method=MatchMethod.UNMATCHED,
        amount=amount,
        allocations=(),
        overpayment=ZERO,
        client_inn=payer_inn,
        unmatched_reason=f"no open invoices for payer INN {payer_inn}",
        notes=tuple(notes),
    )
