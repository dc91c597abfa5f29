from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.bank_statement import (
    Direction,
    MatchMethod,
    OpenInvoice,
    PaymentDocument,
    StatementFormatError,
    classify,
    documents_by_direction,
    extract_invoice_numbers,
    incoming_payments,
    match_payment,
    normalize_invoice_number,
    parse_statement,
)

pytestmark = pytest.mark.unit

# ../data/bank-statement-1c-sample.txt of the shared design folder, line by line (decoded)
SAMPLE_LINES = (
    "1CClientBankExchange",
    "ВерсияФормата=1.03",
    "Кодировка=Windows",
    "Отправитель=Бухгалтерия предприятия, редакция 3.0",
    "Получатель=",
    "ДатаСоздания=22.12.2026",
    "ВремяСоздания=18:05:11",
    "ДатаНачала=21.12.2026",
    "ДатаКонца=22.12.2026",
    "РасчСчет=40702810938000012345",
    "Документ=Платежное поручение",
    "СекцияРасчСчет",
    "ДатаНачала=21.12.2026",
    "ДатаКонца=22.12.2026",
    "РасчСчет=40702810938000012345",
    "НачальныйОстаток=1250000.00",
    "ВсегоПоступило=74420.00",
    "ВсегоСписано=15000.00",
    "КонечныйОстаток=1309420.00",
    "КонецРасчСчет",
    "СекцияДокумент=Платежное поручение",
    "Номер=517",
    "Дата=21.12.2026",
    "Сумма=15250.00",
    "ПлательщикСчет=40702810400000001111",
    "ДатаПоступило=21.12.2026",
    "Плательщик=ИНН 7707083893 ПАО СБЕРБАНК",
    "ПлательщикИНН=7707083893",
    "Плательщик1=ПАО СБЕРБАНК",
    "ПлательщикРасчСчет=40702810400000001111",
    "ПлательщикБанк1=ПАО СБЕРБАНК",
    "ПлательщикБанк2=г. Москва",
    "ПлательщикБИК=044525225",
    "ПлательщикКорсчет=30101810400000000225",
    "ПолучательСчет=40702810938000012345",
    'Получатель=ИНН 7701000001 ООО "КЛИЕНТОПС"',
    "ПолучательИНН=7701000001",
    'Получатель1=ООО "КЛИЕНТОПС"',
    "ПолучательРасчСчет=40702810938000012345",
    "ПолучательБанк1=ПАО СБЕРБАНК",
    "ПолучательБанк2=г. Москва",
    "ПолучательБИК=044525225",
    "ПолучательКорсчет=30101810400000000225",
    "ВидПлатежа=электронно",
    "ВидОплаты=01",
    "Очередность=5",
    "НазначениеПлатежа=Оплата по счету № СЧ-2026-12-0001 от 15.12.2026 за "
    "абонентское обслуживание за декабрь 2026 г. Сумма 15250-00 В т.ч. НДС (22%) 2750-00",
    "КонецДокумента",
    "СекцияДокумент=Платежное поручение",
    "Номер=88",
    "Дата=22.12.2026",
    "Сумма=5000.00",
    "ПлательщикСчет=40702810100000002222",
    "ДатаПоступило=22.12.2026",
    'Плательщик=ООО "ЯНДЕКС"',
    "ПлательщикИНН=7736207543",
    "ПлательщикКПП=770401001",
    'Плательщик1=ООО "ЯНДЕКС"',
    "ПлательщикБИК=044525974",
    "ПолучательСчет=40702810938000012345",
    'Получатель=ООО "КЛИЕНТОПС"',
    "ПолучательИНН=7701000001",
    "НазначениеПлатежа=Частичная оплата абонентской платы по договору 2026-0002, НДС не облагается",
    "КонецДокумента",
    "СекцияДокумент=Платежное поручение",
    "Номер=1204",
    "Дата=22.12.2026",
    "Сумма=54170.00",
    "ПлательщикСчет=40702810200000003333",
    "ДатаПоступило=22.12.2026",
    'Плательщик=ПАО "МТС"',
    "ПлательщикИНН=7740000076",
    'Плательщик1=ПАО "МТС"',
    "ПолучательСчет=40702810938000012345",
    'Получатель=ООО "КЛИЕНТОПС"',
    "ПолучательИНН=7701000001",
    "НазначениеПлатежа=Оплата по сч. СЧ-2026-12-0003, СЧ-2026-12-0004 в т.ч. НДС",
    "КонецДокумента",
    "СекцияДокумент=Платежное поручение",
    "Номер=31",
    "Дата=22.12.2026",
    "Сумма=15000.00",
    "ПлательщикСчет=40702810938000012345",
    "ДатаСписано=22.12.2026",
    'Плательщик=ООО "КЛИЕНТОПС"',
    "ПлательщикИНН=7701000001",
    "ПолучательСчет=40702810500000004444",
    "Получатель=ИП Петров Иван Сергеевич",
    "ПолучательИНН=772012345670",
    "НазначениеПлатежа=Арендная плата за размещение терминала за декабрь 2026 г. НДС не облагается",
    "КонецДокумента",
    "КонецФайла",
)

SAMPLE_FILE = Path("/work/shared/data/bank-statement-1c-sample.txt")
OUR_ACCOUNT = "40702810938000012345"
OUR_INN = "7701000001"


def build(lines: tuple[str, ...] | list[str], encoding: str = "cp1251", eol: str = "\r\n") -> bytes:
    return (eol.join(lines) + eol).encode(encoding)


SAMPLE = build(SAMPLE_LINES)


def edited(old: str, new: str | None) -> list[str]:
    """The sample with its first line equal to ``old`` replaced (None: removed)."""
    lines = list(SAMPLE_LINES)
    index = lines.index(old)
    if new is None:
        del lines[index]
    else:
        lines[index] = new
    return lines


def line_of(text: str) -> int:
    return SAMPLE_LINES.index(text) + 1


# -- parsing the sample ----------------------------------------------------------------------


@pytest.mark.skipif(not SAMPLE_FILE.exists(), reason="shared data folder not mounted")
def test_embedded_sample_is_the_shared_file() -> None:
    assert SAMPLE_FILE.read_bytes() == SAMPLE


def test_sample_header_and_account_section() -> None:
    statement = parse_statement(SAMPLE)
    assert statement.encoding == "cp1251"
    assert statement.format_version == "1.03"
    assert statement.sender == "Бухгалтерия предприятия, редакция 3.0"
    assert statement.receiver is None
    assert (statement.created_on, statement.date_from, statement.date_to) == (
        date(2026, 12, 22),
        date(2026, 12, 21),
        date(2026, 12, 22),
    )
    assert statement.accounts == (OUR_ACCOUNT,)
    (section,) = statement.account_sections
    assert section.account == OUR_ACCOUNT
    assert (
        section.opening_balance,
        section.total_received,
        section.total_written_off,
        section.closing_balance,
    ) == (Decimal("1250000.00"), Decimal("74420.00"), Decimal("15000.00"), Decimal("1309420.00"))
    assert statement.header["Документ"] == "Платежное поручение"


def test_sample_documents() -> None:
    documents = parse_statement(SAMPLE).documents
    assert [(doc.number, doc.document_date, doc.amount) for doc in documents] == [
        ("517", date(2026, 12, 21), Decimal("15250.00")),
        ("88", date(2026, 12, 22), Decimal("5000.00")),
        ("1204", date(2026, 12, 22), Decimal("54170.00")),
        ("31", date(2026, 12, 22), Decimal("15000.00")),
    ]
    first = documents[0]
    assert first.kind == "Платежное поручение"
    assert first.line_no == line_of("СекцияДокумент=Платежное поручение")
    # «Плательщик=ИНН 7707083893 ПАО СБЕРБАНК»: the name comes without the INN
    assert first.payer.name == "ПАО СБЕРБАНК"
    assert first.payer_inn == "7707083893"
    assert (first.payer.account, first.payer.bic) == ("40702810400000001111", "044525225")
    assert (first.payee.inn, first.payee.account) == (OUR_INN, OUR_ACCOUNT)
    assert first.purpose.startswith("Оплата по счету № СЧ-2026-12-0001 от 15.12.2026")
    assert (first.received_on, first.written_off_on) == (date(2026, 12, 21), None)
    assert documents[1].payer.kpp == "770401001"
    payout = documents[3]
    assert (payout.received_on, payout.written_off_on) == (None, date(2026, 12, 22))
    assert payout.payee.name == "ИП Петров Иван Сергеевич"
    assert payout.payee.inn == "772012345670"
    assert payout.fields["ДатаСписано"] == "22.12.2026"


def test_cp866_lf_variant_reads_the_same() -> None:
    dos = build(edited("Кодировка=Windows", "Кодировка=DOS"), encoding="cp866", eol="\n")
    statement = parse_statement(dos)
    assert statement.encoding == "cp866"
    assert statement.documents == parse_statement(SAMPLE).documents
    assert statement.account_sections == parse_statement(SAMPLE).account_sections


def test_several_accounts() -> None:
    second = "40702810100000009999"
    lines = edited("Документ=Платежное поручение", f"РасчСчет={second}")
    end = lines.index("КонецРасчСчет") + 1
    lines[end:end] = [
        "СекцияРасчСчет",
        f"РасчСчет={second}",
        "НачальныйОстаток=0.00",
        "КонецРасчСчет",
    ]
    statement = parse_statement(build(lines))
    assert statement.accounts == (OUR_ACCOUNT, second)
    assert [section.account for section in statement.account_sections] == [OUR_ACCOUNT, second]
    assert statement.account_sections[1].total_received is None


def test_split_purpose_lines_are_joined() -> None:
    purpose = next(line for line in SAMPLE_LINES if "по договору 2026-0002" in line)
    lines = edited(purpose, "НазначениеПлатежа1=Оплата по счету")
    lines.insert(
        lines.index("НазначениеПлатежа1=Оплата по счету") + 1, "НазначениеПлатежа2=СЧ-2026-12-0002"
    )
    document = parse_statement(build(lines)).documents[1]
    assert document.purpose == "Оплата по счету СЧ-2026-12-0002"


# -- malformed files -------------------------------------------------------------------------


def error_of(data: bytes) -> StatementFormatError:
    with pytest.raises(StatementFormatError) as caught:
        parse_statement(data)
    return caught.value


def test_missing_header() -> None:
    error = error_of(build(SAMPLE_LINES[1:]))
    assert error.line_no == 1
    assert "1CClientBankExchange" in str(error)
    assert error_of(b"").line_no == 1


def test_missing_or_unknown_encoding() -> None:
    assert "Кодировка" in str(error_of(build(edited("Кодировка=Windows", None))))
    error = error_of(build(edited("Кодировка=Windows", "Кодировка=KOI8")))
    assert (error.line_no, "unknown encoding" in error.message) == (3, True)
    # the header says DOS, the bytes are windows-1251
    error = error_of(build(edited("Кодировка=Windows", "Кодировка=DOS")))
    assert "cp1251" in error.message


def test_bytes_invalid_in_the_declared_encoding() -> None:
    data = SAMPLE.replace("Номер=517".encode("cp1251"), "Номер=5".encode("cp1251") + b"\x98")
    assert error_of(data).line_no == line_of("Номер=517")


def test_unterminated_document_before_the_next_one() -> None:
    lines = edited("КонецДокумента", None)  # the first document loses its end
    error = error_of(build(lines))
    # reported where the next section starts: the line before «Номер=88» (0-based index = 1-based)
    assert error.line_no == lines.index("Номер=88")
    assert f"opened at line {line_of('Номер=517') - 1}" in error.message
    assert "КонецДокумента" in error.message


def test_truncated_file() -> None:
    cut = SAMPLE_LINES.index("Номер=31") + 1
    error = error_of(build(SAMPLE_LINES[:cut]))
    assert "not closed" in error.message and "truncated" in error.message
    error = error_of(build(SAMPLE_LINES[:-1]))
    assert "КонецФайла" in error.message


def test_unterminated_account_section() -> None:
    error = error_of(build(edited("КонецРасчСчет", None)))
    assert "СекцияРасчСчет" in error.message
    # the first document's section now starts where the end marker was
    assert error.line_no == line_of("КонецРасчСчет")


@pytest.mark.parametrize("amount", ["15250,00", "15 250.00", "-15250.00", "15250.001", "abc", ""])
def test_bad_amount(amount: str) -> None:
    error = error_of(build(edited("Сумма=15250.00", f"Сумма={amount}")))
    assert error.line_no == line_of("Сумма=15250.00")
    assert "Сумма" in error.message


@pytest.mark.parametrize("value", ["2026-12-21", "21.12.26", "32.12.2026", "29.02.2027"])
def test_bad_date(value: str) -> None:
    error = error_of(build(edited("Дата=21.12.2026", f"Дата={value}")))
    assert error.line_no == line_of("Дата=21.12.2026")
    assert "date" in error.message


def test_bad_received_date() -> None:
    error = error_of(build(edited("ДатаПоступило=21.12.2026", "ДатаПоступило=вчера")))
    assert error.line_no == line_of("ДатаПоступило=21.12.2026")


def test_line_without_equals_sign() -> None:
    error = error_of(build(edited("Номер=88", "Номер 88")))
    assert error.line_no == line_of("Номер=88")
    assert "Key=Value" in error.message


def test_end_without_section() -> None:
    lines = list(SAMPLE_LINES)
    lines.insert(5, "КонецДокумента")
    assert error_of(build(lines)).line_no == 6


# -- classifying ---------------------------------------------------------------------------


def test_sample_directions() -> None:
    statement = parse_statement(SAMPLE)
    incoming = incoming_payments(statement)
    assert [doc.number for doc in incoming] == ["517", "88", "1204"]
    outgoing = documents_by_direction(statement, Direction.OUTGOING)
    assert [doc.number for doc in outgoing] == ["31"]
    # the statement's own totals agree with what we classified
    (section,) = statement.account_sections
    assert sum(doc.amount for doc in incoming) == section.total_received
    assert sum(doc.amount for doc in outgoing) == section.total_written_off


def test_classify_by_inn_alone() -> None:
    documents = parse_statement(SAMPLE).documents
    assert [classify(doc, (), our_inn=OUR_INN) for doc in documents] == [
        Direction.INCOMING,
        Direction.INCOMING,
        Direction.INCOMING,
        Direction.OUTGOING,
    ]
    assert classify(documents[0], ()) is Direction.UNRELATED


def test_transfer_between_our_accounts_is_internal() -> None:
    payout = parse_statement(SAMPLE).documents[3]
    transfer = replace(
        payout, payee=replace(payout.payee, inn=OUR_INN, account="40702810100000009999")
    )
    assert classify(transfer, {OUR_ACCOUNT, "40702810100000009999"}) is Direction.INTERNAL
    assert classify(transfer, {OUR_ACCOUNT}, our_inn=OUR_INN) is Direction.INTERNAL


# -- invoice numbers -----------------------------------------------------------------------

SAMPLE_PURPOSES = [document.purpose for document in parse_statement(SAMPLE).documents]


@pytest.mark.parametrize(
    ("purpose", "numbers"),
    [
        (SAMPLE_PURPOSES[0], ["СЧ-2026-12-0001"]),
        (SAMPLE_PURPOSES[1], []),
        (SAMPLE_PURPOSES[2], ["СЧ-2026-12-0003", "СЧ-2026-12-0004"]),
        (SAMPLE_PURPOSES[3], []),
        (
            "Оплата по сч. СЧ-2026-12-0003, СЧ-2026-12-0004 в т.ч. НДС",
            ["СЧ-2026-12-0003", "СЧ-2026-12-0004"],
        ),
        ("Частичная оплата абонентской платы по договору 2026-0002, НДС не облагается", []),
        ("оплата №СЧ-2026-12-0007", ["СЧ-2026-12-0007"]),
        (
            "по счету № сч 2026-12-7 и № СЧ - 2026 - 12 - 0008",
            ["СЧ-2026-12-0007", "СЧ-2026-12-0008"],
        ),
        ("CЧ-2026-12-0009 (латинская C)", ["СЧ-2026-12-0009"]),
        ("СЧ-2026-12-0001; повторно СЧ-2026-12-0001", ["СЧ-2026-12-0001"]),
        ("СЧ-2026-13-0001 и СЧ-2026-12-0000", []),
        ("ОСЧ-2026-12-0001", []),
        ("счет 2026-12-0001", []),
    ],
)
def test_extract_invoice_numbers(purpose: str, numbers: list[str]) -> None:
    assert list(extract_invoice_numbers(purpose)) == numbers


def test_normalize_invoice_number() -> None:
    assert normalize_invoice_number("сч-2026-12-1") == "СЧ-2026-12-0001"
    assert normalize_invoice_number("2026-0002") is None
    assert normalize_invoice_number("СЧ-2026-12-0001, СЧ-2026-12-0002") is None


# -- matching ------------------------------------------------------------------------------

SBER, YANDEX, MTS = "7707083893", "7736207543", "7740000076"
OPEN = [
    OpenInvoice("СЧ-2026-12-0001", SBER, date(2026, 12, 15), Decimal("15250.00")),
    OpenInvoice("СЧ-2026-12-0002", YANDEX, date(2026, 12, 15), Decimal("12500.00")),
    OpenInvoice("СЧ-2026-11-0002", YANDEX, date(2026, 11, 15), Decimal("12500.00")),
    OpenInvoice("СЧ-2026-12-0003", MTS, date(2026, 12, 15), Decimal("30500.00")),
    OpenInvoice("СЧ-2026-12-0004", MTS, date(2026, 12, 15), Decimal("23670.00")),
]


@dataclass(frozen=True)
class Payment:
    amount: Decimal
    payer_inn: str | None
    purpose: str


def allocations(match: object) -> list[tuple[str, Decimal]]:
    return [(a.invoice_number, a.amount) for a in match.allocations]  # type: ignore[attr-defined]


def sample_payments() -> tuple[PaymentDocument, ...]:
    return incoming_payments(parse_statement(SAMPLE), our_inn=OUR_INN)


def test_sample_payment_naming_one_invoice() -> None:
    match = match_payment(sample_payments()[0], OPEN)
    assert match.method is MatchMethod.INVOICE_NUMBER
    assert allocations(match) == [("СЧ-2026-12-0001", Decimal("15250.00"))]
    assert (match.overpayment, match.client_inn, match.notes) == (Decimal("0.00"), SBER, ())


def test_sample_partial_payment_naming_only_a_contract() -> None:
    match = match_payment(sample_payments()[1], OPEN)
    assert match.method is MatchMethod.OLDEST_FIRST
    assert allocations(match) == [("СЧ-2026-11-0002", Decimal("5000.00"))]
    assert match.overpayment == 0


def test_sample_payment_naming_two_invoices() -> None:
    match = match_payment(sample_payments()[2], OPEN)
    assert match.method is MatchMethod.INVOICE_NUMBER
    assert allocations(match) == [
        ("СЧ-2026-12-0003", Decimal("30500.00")),
        ("СЧ-2026-12-0004", Decimal("23670.00")),
    ]
    assert match.allocated == Decimal("54170.00") and match.overpayment == 0


def test_named_invoices_get_at_most_their_outstanding_then_overpayment() -> None:
    match = match_payment(
        Payment(Decimal("60000.00"), MTS, "СЧ-2026-12-0004, СЧ-2026-12-0003"), OPEN
    )
    assert allocations(match) == [
        ("СЧ-2026-12-0004", Decimal("23670.00")),
        ("СЧ-2026-12-0003", Decimal("30500.00")),
    ]
    assert (match.overpayment, match.client_inn) == (Decimal("5830.00"), MTS)


def test_named_invoices_in_order_partially() -> None:
    match = match_payment(
        Payment(Decimal("40000.00"), MTS, "СЧ-2026-12-0003, СЧ-2026-12-0004"), OPEN
    )
    assert allocations(match) == [
        ("СЧ-2026-12-0003", Decimal("30500.00")),
        ("СЧ-2026-12-0004", Decimal("9500.00")),
    ]


def test_third_party_paying_a_named_invoice_is_noted() -> None:
    match = match_payment(Payment(Decimal("15250.00"), YANDEX, "за СЧ-2026-12-0001"), OPEN)
    assert match.method is MatchMethod.INVOICE_NUMBER and match.client_inn == SBER
    assert any("differs" in note for note in match.notes)


def test_exact_amount_beats_oldest_first() -> None:
    invoices = [
        *OPEN,
        OpenInvoice("СЧ-2026-10-0002", YANDEX, date(2026, 10, 15), Decimal("777.00")),
    ]
    match = match_payment(Payment(Decimal("12500.00"), YANDEX, "абонентская плата"), invoices[1:])
    # two invoices of 12,500.00 are open: not a single exact match, so oldest first
    assert match.method is MatchMethod.OLDEST_FIRST
    assert allocations(match) == [
        ("СЧ-2026-10-0002", Decimal("777.00")),
        ("СЧ-2026-11-0002", Decimal("11723.00")),
    ]
    match = match_payment(
        Payment(Decimal("12500.00"), YANDEX, "абонентская плата"), [invoices[1], invoices[-1]]
    )
    assert match.method is MatchMethod.EXACT_AMOUNT
    assert allocations(match) == [("СЧ-2026-12-0002", Decimal("12500.00"))]


def test_paid_invoice_named_falls_back_to_inn() -> None:
    match = match_payment(Payment(Decimal("12500.00"), YANDEX, "по счету СЧ-2026-10-0001"), OPEN)
    assert match.method is MatchMethod.OLDEST_FIRST
    assert match.notes == ("named but not open: СЧ-2026-10-0001",)


def test_oldest_first_overpayment() -> None:
    match = match_payment(Payment(Decimal("30000.00"), YANDEX, "аванс"), OPEN)
    assert allocations(match) == [
        ("СЧ-2026-11-0002", Decimal("12500.00")),
        ("СЧ-2026-12-0002", Decimal("12500.00")),
    ]
    assert (match.overpayment, match.client_inn) == (Decimal("5000.00"), YANDEX)


def test_unmatched() -> None:
    no_inn = match_payment(Payment(Decimal("100.00"), None, "оплата"), OPEN)
    assert (no_inn.method, no_inn.matched, no_inn.allocations) == (MatchMethod.UNMATCHED, False, ())
    assert no_inn.unmatched_reason == "no open invoice named in the purpose and no payer INN"
    stranger = match_payment(Payment(Decimal("100.00"), "7712040126", "оплата"), OPEN)
    assert stranger.unmatched_reason == "no open invoices for payer INN 7712040126"
    assert stranger.overpayment == 0


def test_amount_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        match_payment(Payment(Decimal("0.00"), SBER, ""), OPEN)


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("200000"), places=2),
    st.sampled_from([SBER, YANDEX, MTS, "7712040126", None]),
    st.lists(st.sampled_from([inv.number for inv in OPEN] + ["СЧ-2027-01-0001"]), max_size=3),
)
def test_money_is_never_lost_or_over_allocated(
    amount: Decimal, inn: str | None, named: list[str]
) -> None:
    match = match_payment(Payment(amount, inn, "оплата " + ", ".join(named)), OPEN)
    outstanding = {inv.number: inv.outstanding for inv in OPEN}
    if match.matched:
        assert match.allocated + match.overpayment == amount
        assert match.overpayment >= 0
    else:
        assert match.allocations == () and match.unmatched_reason
    for allocation in match.allocations:
        assert 0 < allocation.amount <= outstanding[allocation.invoice_number]
    assert len({a.invoice_number for a in match.allocations}) == len(match.allocations)
