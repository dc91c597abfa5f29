"""Documents: Russian wording helpers, context validation, DOCX and PDF rendering."""

from __future__ import annotations

import importlib.util
import io
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from types import ModuleType
from typing import Any

import docx
import jinja2
import pypdf
import pytest
from docxtpl import DocxTemplate
from pydantic import ValidationError

from contracts.documents import (
    SERVICE_KINDS,
    TEMPLATES,
    AmendmentFacts,
    AmendmentKind,
    BankDetails,
    CompanyCard,
    ContractFacts,
    ContractKind,
    DocumentContext,
    EquipmentLine,
    HandoverDirection,
    HandoverFacts,
    InvalidFacts,
    PartyDetails,
    Signatory,
    UnknownTemplate,
    VatMode,
    amount_in_words,
    date_long,
    date_short,
    days_in_words,
    format_amount,
    render_docx,
    render_html,
    render_pdf,
)
from contracts.documents.variables import FILTERS, fee_view, template_variables
from contracts.documents.words import (
    calendar_days,
    format_percent,
    format_phone,
    format_rubles,
    genitive_in_words,
    within_working_days,
)

pytestmark = pytest.mark.unit

NBSP = "\u00a0"
TEMPLATES_DIR = files("contracts.documents").joinpath("templates")

# --- amounts in words --------------------------------------------------------------------

AMOUNTS_IN_WORDS = [
    ("0", "Ноль рублей 00 копеек"),
    ("1", "Один рубль 00 копеек"),
    ("2", "Два рубля 00 копеек"),
    ("4", "Четыре рубля 00 копеек"),
    ("5", "Пять рублей 00 копеек"),
    ("11", "Одиннадцать рублей 00 копеек"),
    ("12", "Двенадцать рублей 00 копеек"),
    ("14", "Четырнадцать рублей 00 копеек"),
    ("21", "Двадцать один рубль 00 копеек"),
    ("22", "Двадцать два рубля 00 копеек"),
    ("25", "Двадцать пять рублей 00 копеек"),
    ("100", "Сто рублей 00 копеек"),
    ("111", "Сто одиннадцать рублей 00 копеек"),
    ("1000", "Одна тысяча рублей 00 копеек"),
    ("1001", "Одна тысяча один рубль 00 копеек"),
    ("2000", "Две тысячи рублей 00 копеек"),
    ("101000", "Сто одна тысяча рублей 00 копеек"),
    ("1000000", "Один миллион рублей 00 копеек"),
    ("2000000", "Два миллиона рублей 00 копеек"),
    ("5000000000", "Пять миллиардов рублей 00 копеек"),
    ("0.01", "Ноль рублей 01 копейка"),
    ("0.02", "Ноль рублей 02 копейки"),
    ("0.05", "Ноль рублей 05 копеек"),
    ("0.11", "Ноль рублей 11 копеек"),
    ("0.21", "Ноль рублей 21 копейка"),
    ("0.22", "Ноль рублей 22 копейки"),
    ("0.5", "Ноль рублей 50 копеек"),
    ("12500.00", "Двенадцать тысяч пятьсот рублей 00 копеек"),
    ("15250.00", "Пятнадцать тысяч двести пятьдесят рублей 00 копеек"),
    ("2254.10", "Две тысячи двести пятьдесят четыре рубля 10 копеек"),
    ("2750.00", "Две тысячи семьсот пятьдесят рублей 00 копеек"),
    (
        "1234567.89",
        "Один миллион двести тридцать четыре тысячи пятьсот шестьдесят семь рублей 89 копеек",
    ),
    ("0.005", "Ноль рублей 01 копейка"),  # rounded half-up to kopecks
    ("99.994", "Девяносто девять рублей 99 копеек"),
]


@pytest.mark.parametrize(("amount", "expected"), AMOUNTS_IN_WORDS)
def test_amount_in_words(amount: str, expected: str) -> None:
    assert amount_in_words(Decimal(amount)) == expected


@pytest.mark.parametrize("amount", ["-1", "NaN", "Infinity", "100000000000"])
def test_amount_in_words_refuses_what_it_cannot_write(amount: str) -> None:
    with pytest.raises(ValueError):
        amount_in_words(Decimal(amount))


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("12500", f"12{NBSP}500,00"),
        ("12500.00", f"12{NBSP}500,00"),
        ("0", "0,00"),
        ("0.5", "0,50"),
        ("999.99", "999,99"),
        ("999.995", f"1{NBSP}000,00"),
        ("1234567.8", f"1{NBSP}234{NBSP}567,80"),
        ("-1500.5", f"-1{NBSP}500,50"),
    ],
)
def test_format_amount_uses_no_break_space_and_decimal_comma(amount: str, expected: str) -> None:
    assert format_amount(Decimal(amount)) == expected


def test_format_rubles_joins_figures_and_words() -> None:
    assert format_rubles(Decimal("2254.10")) == (
        f"2{NBSP}254,10 (Две тысячи двести пятьдесят четыре рубля 10 копеек)"
    )


@pytest.mark.parametrize(
    ("rate", "expected"), [("22", "22 %"), ("7.5", "7,5 %"), ("10.00", "10 %")]
)
def test_format_percent(rate: str, expected: str) -> None:
    assert format_percent(Decimal(rate)) == expected


def test_format_phone() -> None:
    assert format_phone("+74951234567") == "+7 495 123-45-67"


# --- dates -------------------------------------------------------------------------------

LONG_DATES = [
    (date(2026, 1, 5), "«05» января 2026 г."),
    (date(2026, 2, 28), "«28» февраля 2026 г."),
    (date(2026, 3, 1), "«01» марта 2026 г."),
    (date(2026, 4, 30), "«30» апреля 2026 г."),
    (date(2026, 5, 9), "«09» мая 2026 г."),
    (date(2026, 6, 12), "«12» июня 2026 г."),
    (date(2026, 7, 31), "«31» июля 2026 г."),
    (date(2026, 8, 15), "«15» августа 2026 г."),
    (date(2026, 9, 1), "«01» сентября 2026 г."),
    (date(2026, 10, 10), "«10» октября 2026 г."),
    (date(2026, 11, 4), "«04» ноября 2026 г."),
    (date(2026, 12, 15), "«15» декабря 2026 г."),
]


@pytest.mark.parametrize(("value", "expected"), LONG_DATES)
def test_date_long_for_every_month(value: date, expected: str) -> None:
    assert date_long(value) == expected


def test_date_long_covers_all_twelve_months() -> None:
    assert sorted(value.month for value, _ in LONG_DATES) == list(range(1, 13))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(date(2026, 12, 15), "15.12.2026"), (date(2027, 1, 5), "05.01.2027")],
)
def test_date_short(value: date, expected: str) -> None:
    assert date_short(value) == expected


# --- numbers of days ----------------------------------------------------------------------

# (days, "за N ..." — accusative, "в течение N ..." — genitive), calendar and working days
DAYS_IN_WORDS = [
    (1, "1 (один) календарный день", "1 (одного) рабочего дня"),
    (2, "2 (два) календарных дня", "2 (двух) рабочих дней"),
    (3, "3 (три) календарных дня", "3 (трёх) рабочих дней"),
    (4, "4 (четыре) календарных дня", "4 (четырёх) рабочих дней"),
    (5, "5 (пять) календарных дней", "5 (пяти) рабочих дней"),
    (10, "10 (десять) календарных дней", "10 (десяти) рабочих дней"),
    (11, "11 (одиннадцать) календарных дней", "11 (одиннадцати) рабочих дней"),
    (14, "14 (четырнадцать) календарных дней", "14 (четырнадцати) рабочих дней"),
    (21, "21 (двадцать один) календарный день", "21 (двадцати одного) рабочего дня"),
    (22, "22 (двадцать два) календарных дня", "22 (двадцати двух) рабочих дней"),
    (30, "30 (тридцать) календарных дней", "30 (тридцати) рабочих дней"),
    (45, "45 (сорок пять) календарных дней", "45 (сорока пяти) рабочих дней"),
    (90, "90 (девяносто) календарных дней", "90 (девяноста) рабочих дней"),
    (101, "101 (сто один) календарный день", "101 (ста одного) рабочего дня"),
    (111, "111 (сто одиннадцать) календарных дней", "111 (ста одиннадцати) рабочих дней"),
    (
        365,
        "365 (триста шестьдесят пять) календарных дней",
        "365 (трёхсот шестидесяти пяти) рабочих дней",
    ),
]


@pytest.mark.parametrize(("days", "accusative", "genitive"), DAYS_IN_WORDS)
def test_days_agree_with_their_number(days: int, accusative: str, genitive: str) -> None:
    assert calendar_days(days) == accusative
    assert within_working_days(days) == genitive
    assert FILTERS["calendar_days"](days) == accusative
    assert FILTERS["within_working_days"](days) == genitive


def test_days_in_words_other_forms() -> None:
    assert days_in_words(2, working=True) == "2 (два) рабочих дня"
    assert days_in_words(5, working=True) == "5 (пять) рабочих дней"
    assert days_in_words(1, genitive=True) == "1 (одного) календарного дня"
    assert days_in_words(0) == "0 (ноль) календарных дней"


@pytest.mark.parametrize("days", [-1, 1000])
def test_days_in_words_refuses_what_it_cannot_write(days: int) -> None:
    with pytest.raises(ValueError):
        days_in_words(days, genitive=True)
    with pytest.raises(ValueError):
        genitive_in_words(days)


# --- VAT wording -------------------------------------------------------------------------


def test_fee_with_vat_included() -> None:
    view = fee_view(Decimal("12500.00"), VatMode.INCLUSIVE, Decimal("22"))
    assert view.total == Decimal("12500.00")
    assert view.vat_clause == (
        f"в т.ч. НДС 22 % — 2{NBSP}254,10 (Две тысячи двести пятьдесят четыре рубля 10 копеек)"
    )


def test_fee_with_vat_on_top() -> None:
    view = fee_view(Decimal("12500.00"), VatMode.ON_TOP, Decimal("22"))
    assert view.total == Decimal("15250.00")
    assert view.vat_clause.startswith("НДС сверху: кроме того НДС 22 % — 2")
    assert "итого с НДС 15" in view.vat_clause
    assert "(Пятнадцать тысяч двести пятьдесят рублей 00 копеек)" in view.vat_clause


def test_fee_exempt_from_vat() -> None:
    view = fee_view(Decimal("12500.00"), VatMode.EXEMPT, Decimal("22"))
    assert view.vat_clause == "НДС не облагается"
    assert view.sentence == (
        f"12{NBSP}500,00 (Двенадцать тысяч пятьсот рублей 00 копеек) в месяц, НДС не облагается"
    )
    assert view.once == (
        f"12{NBSP}500,00 (Двенадцать тысяч пятьсот рублей 00 копеек), НДС не облагается"
    )


# --- fixtures ----------------------------------------------------------------------------

CLIENT_NAME = "ООО «Ромашка & Сыновья»"  # the ampersand proves escaping in DOCX and HTML
CONTRACT_NO = "К-2026/015"
SITE = "г. Москва, Ленинградский пр-т, д. 10, парковка ТЦ"
FEE_WORDS = "Двенадцать тысяч пятьсот рублей 00 копеек"
NEW_FEE_WORDS = "Пятнадцать тысяч рублей 00 копеек"
EQUIPMENT_WORDS = "Сто девяносто тысяч рублей 00 копеек"


@pytest.fixture
def company() -> CompanyCard:
    return CompanyCard(
        name="Общество с ограниченной ответственностью «Терминал Сервис»",
        short_name="ООО «Терминал Сервис»",
        inn="7701000001",
        kpp="770101001",
        ogrn="1027700001230",
        address="123456, г. Москва, ул. Примерная, д. 1",
        bank=BankDetails(
            bank_name="ПАО Сбербанк",
            bik="044525225",
            account="40702810938000012345",
            corr_account="30101810400000000225",
        ),
        director=Signatory(
            position="Генеральный директор",
            full_name="Иванов Иван Иванович",
            in_person_of="Генерального директора Иванова Ивана Ивановича",
        ),
        phone="8 (495) 123-45-67",
        email="office@example.ru",
    )


@pytest.fixture
def client() -> PartyDetails:
    return PartyDetails(
        name=CLIENT_NAME,
        inn="7707083893",
        kpp="770701001",
        ogrn="1027700132195",
        address="125009, г. Москва, ул. Цветочная, д. 5",
        bank=BankDetails(
            bank_name="АО «ТБанк»",
            bik="044525974",
            account="40702810600000004567",
            corr_account="30101810145250000974",
        ),
        signatory=Signatory(
            position="Директор",
            full_name="Смирнова Анна Петровна",
            in_person_of="Директора Смирновой Анны Петровны",
            female=True,
        ),
        phone="+7 916 123 45 67",
    )


@pytest.fixture
def sole_trader() -> PartyDetails:
    return PartyDetails(
        name="Индивидуальный предприниматель Петров Пётр Петрович",
        inn="772012345670",
        ogrn="316774600000128",
        address="г. Москва, ул. Садовая, д. 3, кв. 7",
        signatory=Signatory(
            position="Индивидуальный предприниматель",
            full_name="Петров Пётр Петрович",
            basis="свидетельства о государственной регистрации",
        ),
    )


def make_contract(**changes: Any) -> ContractFacts:
    facts: dict[str, Any] = {
        "number": CONTRACT_NO,
        "signed_on": date(2026, 12, 15),
        "starts_on": date(2027, 1, 1),
        "ends_on": date(2027, 12, 31),
        "monthly_fee": "12500.00",
        "vat_mode": "inclusive",
        "site_address": SITE,
        "access_points": 2,
    }
    facts.update(changes)
    return ContractFacts(**facts)


HANDOVER = HandoverFacts(
    number="А-17",
    handed_on=date(2027, 1, 10),
    lines=(
        EquipmentLine(name="Терминал оплаты парковки", serial="TP-000123", unit_price="150000.00"),
        EquipmentLine(name="Стойка въезда", serial="SV-4411", qty=2, unit_price="20000.00"),
    ),
    work_order_no="З-2027/004",
)

AMENDMENTS = {
    AmendmentKind.TERMINATION: AmendmentFacts(
        kind="termination", number="2", signed_on=date(2027, 5, 20), effective_on=date(2027, 6, 1)
    ),
    AmendmentKind.EXTENSION: AmendmentFacts(
        kind="extension",
        number="3",
        signed_on=date(2027, 11, 20),
        effective_on=date(2028, 1, 1),
        new_ends_on=date(2028, 12, 31),
        new_fee="15000.00",
    ),
    AmendmentKind.FEE_CHANGE: AmendmentFacts(
        kind="fee_change",
        number="1",
        signed_on=date(2027, 2, 20),
        effective_on=date(2027, 4, 1),
        new_fee="15000.00",
    ),
}


def context_for(
    name: str, company: CompanyCard, client: PartyDetails, **changes: Any
) -> DocumentContext:
    """The smallest context each template renders from."""
    parts: dict[str, Any] = {"company": company}
    if name != "company_card":
        parts.update(client=client, contract=make_contract())
    if name == "acceptance_act":
        parts["handover"] = HANDOVER
    if name == "termination_agreement":
        parts["amendment"] = AMENDMENTS[AmendmentKind.TERMINATION]
    if name == "extension_agreement":
        parts["amendment"] = AMENDMENTS[AmendmentKind.EXTENSION]
    parts.update(changes)
    return DocumentContext(**parts)


# what each rendered document must say, besides the client's name and the contract number
EXPECTED_PHRASES: dict[str, list[str]] = {
    "contract": [
        f"ДОГОВОР № {CONTRACT_NO}",
        "«15» декабря 2026 г.",
        "вступает в силу «01» января 2027 г. и действует по «31» декабря 2027 г.",
        f"12 500,00 ({FEE_WORDS}) в месяц, в т.ч. НДС 22 %",
        "Количество точек проезда на Объекте: 2",
        "в лице Директора Смирновой Анны Петровны, действующей на основании Устава",
        "/ Иванов И. И. /",
        "/ Смирнова А. П. /",
        "р/с 40702810600000004567 в АО «ТБанк»",
    ],
    "price_protocol": [
        "ПРОТОКОЛ СОГЛАСОВАНИЯ ЦЕНЫ",
        f"к договору № {CONTRACT_NO} от «15» декабря 2026 г.",
        f"Стоимость услуг составляет 12 500,00 ({FEE_WORDS})",
        "Стоимость применяется с «01» января 2027 г.",
    ],
    "acceptance_act": [
        "АКТ ПРИЁМА-ПЕРЕДАЧИ ОБОРУДОВАНИЯ № А-17",
        "«10» января 2027 г.",
        "Исполнитель передал, а Заказчик принял для установки и эксплуатации",
        "Терминал оплаты парковки",
        "TP-000123",
        "Всего передано единиц оборудования: 3.",
        f"Общая оценочная стоимость оборудования: 190 000,00 ({EQUIPMENT_WORDS})",
        "Основание: заявка на проведение работ № З-2027/004.",
        "Передал: Исполнитель",
        "Принял: Заказчик",
    ],
    "termination_agreement": [
        "ДОПОЛНИТЕЛЬНОЕ СОГЛАШЕНИЕ № 2",
        f"о расторжении договора № {CONTRACT_NO} от «15» декабря 2026 г.",
        "расторгнуть договор",
        "с «01» июня 2027 г.",
        f"Абонентская плата в размере 12 500,00 ({FEE_WORDS}) в месяц",
        "«20» мая 2027 г.",
    ],
    "extension_agreement": [
        "ДОПОЛНИТЕЛЬНОЕ СОГЛАШЕНИЕ № 3",
        f"о продлении срока действия договора № {CONTRACT_NO}",
        "продлить срок действия договора",
        "по «31» декабря 2028 г.",
        f"С «01» января 2028 г. абонентская плата составляет 15 000,00 ({NEW_FEE_WORDS})",
    ],
    "company_card": [
        "КАРТОЧКА ПРЕДПРИЯТИЯ",
        "Общество с ограниченной ответственностью «Терминал Сервис»",
        "7701000001",
        "770101001",
        "1027700001230",
        "ПАО Сбербанк",
        "044525225",
        "40702810938000012345",
        "30101810400000000225",
        "Иванов Иван Иванович",
        "+7 495 123-45-67",
    ],
}

# every document but the company card (our own details only) names the client and contract
# and writes an amount in words
CLIENT_DOCUMENTS = {
    "contract": FEE_WORDS,
    "price_protocol": FEE_WORDS,
    "acceptance_act": EQUIPMENT_WORDS,
    "termination_agreement": FEE_WORDS,
    "extension_agreement": NEW_FEE_WORDS,
}


# --- text extraction ---------------------------------------------------------------------


def normalise(text: str) -> str:
    """Collapse all whitespace (line breaks, NBSPs, justification gaps) to single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.extend(paragraph.text for paragraph in cell.paragraphs)
    return normalise("\n".join(parts))


def pdf_text_pypdf(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_text_pdftotext(data: bytes, tmp_path: Path) -> str:
    source = tmp_path / "document.pdf"
    source.write_bytes(data)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(source), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout.decode("utf-8")


@pytest.fixture
def pdf_text(tmp_path: Path) -> Callable[[bytes], str]:
    """pdftotext (poppler-utils) when installed, pypdf otherwise; whitespace normalised."""
    if shutil.which("pdftotext"):
        return lambda data: normalise(pdf_text_pdftotext(data, tmp_path))
    return lambda data: normalise(pdf_text_pypdf(data))


def assert_says(text: str, phrases: list[str]) -> None:
    missing = [phrase for phrase in phrases if normalise(phrase) not in text]
    assert not missing, f"missing {missing} in: {text}"


def assert_pdf_says_every_docx_clause(pdf: str, docx_bytes: bytes) -> None:
    """Every body clause of the Word version is in the PDF word for word; a page number
    ("1 / 2", which pdftotext may print as "1/2") may land inside a clause that crosses a
    page break."""
    document = docx.Document(io.BytesIO(docx_bytes))
    clauses = [normalise(p.text) for p in document.paragraphs if len(p.text) > 20]
    assert clauses
    assert_says(normalise(re.sub(r"\s\d+ ?/ ?\d+\s", " ", pdf)), clauses)


# --- registry ----------------------------------------------------------------------------


def test_registry_lists_the_six_documents_with_russian_titles() -> None:
    assert set(TEMPLATES) == {
        "contract",
        "price_protocol",
        "acceptance_act",
        "termination_agreement",
        "extension_agreement",
        "company_card",
    }
    assert TEMPLATES["price_protocol"].title == "Протокол согласования цены"
    assert TEMPLATES["acceptance_act"].title == "Акт приёма-передачи оборудования"
    assert all(re.search("[а-яА-Я]", spec.title) for spec in TEMPLATES.values())


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_ships_as_package_data(name: str) -> None:
    assert TEMPLATES_DIR.joinpath("docx", f"{name}.docx").is_file()
    assert TEMPLATES_DIR.joinpath("html", f"{name}.html").is_file()


def test_html_base_layout_uses_dejavu() -> None:
    base = TEMPLATES_DIR.joinpath("html", "_base.html").read_text(encoding="utf-8")
    assert '"DejaVu Serif"' in base
    assert '"DejaVu Sans"' in base


def _load_generator() -> ModuleType:
    path = Path(str(TEMPLATES_DIR.joinpath("make_docx_templates.py")))
    spec = importlib.util.spec_from_file_location("make_docx_templates", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_docx_templates_match_the_generator() -> None:
    generated: dict[str, bytes] = _load_generator().build_all()
    assert set(generated) == set(TEMPLATES)
    for name, data in generated.items():
        committed = TEMPLATES_DIR.joinpath("docx", f"{name}.docx").read_bytes()
        assert committed == data, f"{name}.docx differs from make_docx_templates.py output"


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_docx_template_uses_only_known_variables(
    name: str, company: CompanyCard, client: PartyDetails
) -> None:
    full = context_for(name, company, client)
    variables = template_variables(TEMPLATES[name].title, full)
    source = TEMPLATES_DIR.joinpath("docx", f"{name}.docx").read_bytes()
    env = jinja2.Environment()
    env.filters.update(FILTERS)
    template = DocxTemplate(io.BytesIO(source))
    undeclared = template.get_undeclared_template_variables(jinja_env=env)
    assert undeclared <= set(variables), undeclared - set(variables)


# --- rendering ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_docx_opens_and_says_what_it_must(
    name: str, company: CompanyCard, client: PartyDetails
) -> None:
    data = render_docx(name, context_for(name, company, client))
    assert data[:2] == b"PK"
    text = docx_text(data)
    assert "{{" not in text and "{%" not in text
    assert_says(text, EXPECTED_PHRASES[name])
    if name in CLIENT_DOCUMENTS:
        assert_says(text, [CLIENT_NAME, CONTRACT_NO, CLIENT_DOCUMENTS[name]])


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_pdf_has_the_same_cyrillic_text(
    name: str, company: CompanyCard, client: PartyDetails, pdf_text: Callable[[bytes], str]
) -> None:
    context = context_for(name, company, client)
    data = render_pdf(name, context)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert_says(text, EXPECTED_PHRASES[name])
    if name in CLIENT_DOCUMENTS:
        assert_says(text, [CLIENT_NAME, CONTRACT_NO, CLIENT_DOCUMENTS[name]])
    # the fallback extractor, for machines without poppler-utils, sees the Cyrillic as well
    assert_says(normalise(pdf_text_pypdf(data)), EXPECTED_PHRASES[name][:2])
    assert_pdf_says_every_docx_clause(text, render_docx(name, context))


def test_html_escapes_client_names(company: CompanyCard, client: PartyDetails) -> None:
    html = render_html("contract", context_for("contract", company, client))
    assert "ООО «Ромашка &amp; Сыновья»" in html
    assert "Ромашка & Сыновья" not in html


@pytest.mark.parametrize(
    ("mode", "wording"),
    [
        (VatMode.INCLUSIVE, "в т.ч. НДС 22 % — 2 254,10"),
        (VatMode.ON_TOP, "НДС сверху: кроме того НДС 22 % — 2 750,00"),
        (VatMode.EXEMPT, "в месяц, НДС не облагается"),
    ],
)
def test_contract_vat_wording_per_mode(
    mode: VatMode,
    wording: str,
    company: CompanyCard,
    client: PartyDetails,
    pdf_text: Callable[[bytes], str],
) -> None:
    context = context_for("contract", company, client, contract=make_contract(vat_mode=mode))
    assert_says(docx_text(render_docx("contract", context)), [wording])
    assert_says(pdf_text(render_pdf("contract", context)), [wording])


def test_vat_on_top_states_the_total_in_words(company: CompanyCard, client: PartyDetails) -> None:
    context = context_for(
        "contract", company, client, contract=make_contract(vat_mode=VatMode.ON_TOP)
    )
    text = docx_text(render_docx("contract", context))
    assert_says(
        text, ["итого с НДС 15 250,00 (Пятнадцать тысяч двести пятьдесят рублей 00 копеек)"]
    )


def test_sole_trader_preamble_and_requisites(
    company: CompanyCard, sole_trader: PartyDetails
) -> None:
    context = context_for("contract", company, sole_trader)
    text = docx_text(render_docx("contract", context))
    assert_says(
        text,
        [
            "Индивидуальный предприниматель Петров Пётр Петрович, именуемый в дальнейшем "
            "«Заказчик», действующий на основании свидетельства о государственной регистрации",
            "ИНН 772012345670",
            "ОГРНИП 316774600000128",
            "/ Петров П. П. /",
        ],
    )
    assert "КПП None" not in text


def test_open_ended_contract_without_renewal_clause(
    company: CompanyCard, client: PartyDetails
) -> None:
    contract = make_contract(ends_on=None)
    context = context_for("contract", company, client, contract=contract)
    html = normalise(render_html("contract", context))
    for text in (docx_text(render_docx("contract", context)), html):
        assert "действует без ограничения срока." in text
        assert "считается продлённым" not in text


def test_price_protocol_for_a_fee_change(
    company: CompanyCard, client: PartyDetails, pdf_text: Callable[[bytes], str]
) -> None:
    context = context_for(
        "price_protocol", company, client, amendment=AMENDMENTS[AmendmentKind.FEE_CHANGE]
    )
    phrases = [
        f"Стоимость услуг составляет 15 000,00 ({NEW_FEE_WORDS})",
        "Стоимость применяется с «01» апреля 2027 г.",
        "Ранее действовавшая абонентская плата 12 500,00 руб. в месяц применяется до "
        "«01» апреля 2027 г.",
        "«20» февраля 2027 г.",
    ]
    assert_says(docx_text(render_docx("price_protocol", context)), phrases)
    assert_says(pdf_text(render_pdf("price_protocol", context)), phrases)


def test_acceptance_act_for_a_removal(company: CompanyCard, client: PartyDetails) -> None:
    removal = HANDOVER.model_copy(
        update={"direction": HandoverDirection.FROM_CLIENT, "work_order_no": None}
    )
    context = context_for("acceptance_act", company, client, handover=removal)
    text = docx_text(render_docx("acceptance_act", context))
    assert_says(
        text,
        [
            "Заказчик передал, а Исполнитель принял в связи со снятием",
            "Передал: Заказчик",
            "Принял: Исполнитель",
        ],
    )
    assert "Основание:" not in text


def test_acceptance_act_without_prices_omits_the_value(
    company: CompanyCard, client: PartyDetails
) -> None:
    unpriced = HandoverFacts(
        number="А-18",
        handed_on=date(2027, 1, 11),
        lines=(EquipmentLine(name="Шлагбаум", serial="SH-1"),),
    )
    context = context_for("acceptance_act", company, client, handover=unpriced)
    text = docx_text(render_docx("acceptance_act", context))
    assert "Шлагбаум" in text
    assert "оценочная стоимость" not in text


def test_unused_facts_are_ignored(company: CompanyCard, client: PartyDetails) -> None:
    # a contract rendered with its later amendment still bears the contract's own date
    context = context_for(
        "contract", company, client, amendment=AMENDMENTS[AmendmentKind.TERMINATION]
    )
    text = docx_text(render_docx("contract", context))
    assert_says(text, ["г. Москва «15» декабря 2026 г."])


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("render", [render_docx, render_pdf, render_html])
def test_unknown_template(
    render: Callable[[str, DocumentContext], object], company: CompanyCard
) -> None:
    with pytest.raises(UnknownTemplate, match="unknown document template 'invoice'"):
        render("invoice", DocumentContext(company=company))


def test_unknown_template_is_a_lookup_error() -> None:
    assert issubclass(UnknownTemplate, LookupError)


def test_missing_facts_are_named(company: CompanyCard) -> None:
    with pytest.raises(InvalidFacts, match="'acceptance_act' needs: client, contract, handover"):
        render_docx("acceptance_act", DocumentContext(company=company))


def test_amendment_of_the_wrong_kind_is_refused(company: CompanyCard, client: PartyDetails) -> None:
    context = context_for(
        "extension_agreement", company, client, amendment=AMENDMENTS[AmendmentKind.TERMINATION]
    )
    with pytest.raises(InvalidFacts, match="kind extension, got termination"):
        render_pdf("extension_agreement", context)


# --- context validation ------------------------------------------------------------------


def test_bank_account_must_match_bik() -> None:
    with pytest.raises(ValidationError, match="does not match BIK"):
        BankDetails(
            bank_name="ПАО Сбербанк",
            bik="044525225",
            account="40702810938000012346",
            corr_account="30101810400000000225",
        )


def test_organisation_needs_kpp_and_sole_trader_has_none(
    client: PartyDetails, sole_trader: PartyDetails
) -> None:
    with pytest.raises(ValidationError, match="KPP is required"):
        client.model_validate({**client.model_dump(), "kpp": None})
    with pytest.raises(ValidationError, match="sole trader"):
        sole_trader.model_validate({**sole_trader.model_dump(), "kpp": "770101001"})


def test_contract_fee_must_not_be_a_float() -> None:
    with pytest.raises(ValidationError, match="not a float"):
        make_contract(monthly_fee=12500.0)


def test_contract_period_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="ends_on must be after starts_on"):
        make_contract(ends_on=date(2026, 12, 31))


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"kind": "extension"}, "needs new_ends_on"),
        ({"kind": "fee_change"}, "needs new_fee"),
        ({"kind": "termination", "new_fee": "100.00"}, "neither new_fee nor new_ends_on"),
    ],
)
def test_amendment_fields_follow_its_kind(facts: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AmendmentFacts(
            number="1", signed_on=date(2027, 1, 1), effective_on=date(2027, 2, 1), **facts
        )


def test_extension_must_move_the_end_date_later(company: CompanyCard, client: PartyDetails) -> None:
    short = AMENDMENTS[AmendmentKind.EXTENSION].model_copy(
        update={"new_ends_on": date(2027, 6, 30), "effective_on": date(2027, 1, 1)}
    )
    with pytest.raises(ValidationError, match="later than the contract's"):
        context_for("extension_agreement", company, client, amendment=short)


def test_signatory_short_name() -> None:
    signatory = Signatory(position="Директор", full_name="Смирнова Анна Петровна")
    assert signatory.short_name == "Смирнова А. П."


def test_pilot_contract_paid_in_cash(company: CompanyCard, client: PartyDetails) -> None:
    contract = make_contract(kind="pilot", payment_form="cash", vat_mode="exempt")
    context = context_for("contract", company, client, contract=contract)
    assert_says(
        docx_text(render_docx("contract", context)),
        [
            "на проведение пилотного проекта",
            "в рамках пилотного проекта",
            "Оплата производится наличными денежными средствами",
        ],
    )


def test_price_protocol_for_an_extension_with_a_new_fee(
    company: CompanyCard, client: PartyDetails
) -> None:
    context = context_for(
        "price_protocol", company, client, amendment=AMENDMENTS[AmendmentKind.EXTENSION]
    )
    text = docx_text(render_docx("price_protocol", context))
    assert_says(
        text,
        [
            f"Стоимость услуг составляет 15 000,00 ({NEW_FEE_WORDS})",
            "Стоимость применяется с «01» января 2028 г.",
        ],
    )
    assert "Ранее действовавшая" not in text


def test_price_protocol_refuses_a_termination(company: CompanyCard, client: PartyDetails) -> None:
    context = context_for(
        "price_protocol", company, client, amendment=AMENDMENTS[AmendmentKind.TERMINATION]
    )
    with pytest.raises(InvalidFacts, match="got termination"):
        render_docx("price_protocol", context)


# --- the contract for every kind -----------------------------------------------------------

# what the contract of each kind must say: its subject, the parties' roles, its price or fee
# with the amount in words, and its own terms
KIND_WORDING: dict[ContractKind, list[str]] = {
    ContractKind.SUBSCRIPTION: [
        "на абонентское обслуживание оборудования",
        "именуемое в дальнейшем «Исполнитель»",
        "именуемое в дальнейшем «Заказчик»",
        f"Абонентская плата составляет 12 500,00 ({FEE_WORDS}) в месяц",
        f"по адресу: {SITE}",
        "Количество точек проезда на Объекте: 2",
        "остаётся собственностью Исполнителя",
        "по месту нахождения Исполнителя",
    ],
    ContractKind.PILOT: [
        "на проведение пилотного проекта",
        "в рамках пилотного проекта",
        f"Абонентская плата составляет 12 500,00 ({FEE_WORDS}) в месяц",
        "именуемое в дальнейшем «Заказчик»",
    ],
    ContractKind.MAINTENANCE: [
        "на сервисное обслуживание оборудования",
        "Обслуживаемое оборудование принадлежит Заказчику",
        f"Абонентская плата составляет 12 500,00 ({FEE_WORDS}) в месяц",
        "по аварийной заявке Заказчика в течение 2 (двух) рабочих дней.",
    ],
    ContractKind.SUPPLY: [
        "на поставку оборудования",
        "именуемое в дальнейшем «Поставщик»",
        "именуемое в дальнейшем «Покупатель»",
        "Поставщик обязуется передать в собственность Покупателя оборудование",
        f"Оборудование поставляется по адресу: {SITE}",
        f"Цена Договора составляет 12 500,00 ({FEE_WORDS}), в т.ч. НДС 22 %",
        "в безналичном порядке путём перечисления денежных средств на расчётный счёт Поставщика",
        "Право собственности на Оборудование переходит к Покупателю с даты подписания Сторонами "
        "УПД, но не ранее полной оплаты цены Договора",
        "Договор может быть изменён или расторгнут по соглашению Сторон",
        "по месту нахождения Поставщика",
    ],
    ContractKind.RENT: [
        "аренды места для размещения платёжного терминала",
        "именуемое в дальнейшем «Арендатор»",
        "именуемое в дальнейшем «Арендодатель»",
        "Арендодатель предоставляет Арендатору за плату во временное пользование часть "
        f"площади (место) на объекте по адресу: {SITE}",
        f"Арендатор уплачивает Арендодателю арендную плату в размере 12 500,00 ({FEE_WORDS}) "
        "в месяц",
        "Оборудование является собственностью Арендатора",
        "в безналичном порядке путём перечисления денежных средств на расчётный счёт Арендодателя",
        "по месту нахождения Арендатора",
    ],
}

# wording of the other kinds that must not leak into a kind's contract
KIND_FOREIGN: dict[ContractKind, list[str]] = {
    **{
        kind: ["Арендатор", "Арендодатель", "Поставщик", "Покупатель", "Цена Договора"]
        for kind in SERVICE_KINDS
    },
    ContractKind.SUPPLY: ["Исполнитель", "Заказчик", "Абонентская плата", "в месяц", "аренд"],
    ContractKind.RENT: ["Исполнитель", "Заказчик", "Абонентская плата", "Поставщик"],
}


def kind_contract(kind: ContractKind, **changes: Any) -> ContractFacts:
    """The shared contract facts as the domain makes them for ``kind``: a pilot is not
    renewed automatically, maintenance always has its emergency-visit term."""
    if kind is ContractKind.PILOT:
        changes.setdefault("auto_renew", False)
    if kind is ContractKind.MAINTENANCE:
        changes.setdefault("emergency_sla_days", 2)
    return make_contract(kind=kind, **changes)


def test_every_contract_kind_has_its_wording() -> None:
    assert set(KIND_WORDING) == set(ContractKind) == set(TEMPLATES["contract"].contract_kinds)


@pytest.mark.parametrize("kind", list(ContractKind))
def test_contract_of_every_kind_in_docx_and_pdf(
    kind: ContractKind,
    company: CompanyCard,
    client: PartyDetails,
    pdf_text: Callable[[bytes], str],
) -> None:
    context = context_for("contract", company, client, contract=kind_contract(kind))
    docx_bytes = render_docx("contract", context)
    docx_says = docx_text(docx_bytes)
    pdf_says = pdf_text(render_pdf("contract", context))
    for text in (docx_says, pdf_says):
        assert "{{" not in text and "{%" not in text
        assert_says(text, [CLIENT_NAME, f"ДОГОВОР № {CONTRACT_NO}", FEE_WORDS, SITE])
        assert_says(text, KIND_WORDING[kind])
        leaked = [phrase for phrase in KIND_FOREIGN[kind] if phrase in text]
        assert not leaked, f"{kind} contract says {leaked}"
    assert_pdf_says_every_docx_clause(pdf_says, docx_bytes)


@pytest.mark.parametrize("kind", list(ContractKind))
def test_signature_block_names_the_kinds_roles(
    kind: ContractKind, company: CompanyCard, client: PartyDetails
) -> None:
    context = context_for("contract", company, client, contract=kind_contract(kind))
    document = docx.Document(io.BytesIO(render_docx("contract", context)))
    ours, theirs = document.tables[-1].rows[0].cells
    expected = {
        ContractKind.SUPPLY: ("Поставщик", "Покупатель"),
        ContractKind.RENT: ("Арендатор", "Арендодатель"),
    }.get(kind, ("Исполнитель", "Заказчик"))
    assert (ours.paragraphs[0].text, theirs.paragraphs[0].text) == expected
    assert ours.paragraphs[1].text == company.short_name
    assert theirs.paragraphs[1].text == CLIENT_NAME


@pytest.mark.parametrize("kind", [ContractKind.SUBSCRIPTION, ContractKind.MAINTENANCE])
def test_notice_and_emergency_visit_come_from_the_contract(
    kind: ContractKind,
    company: CompanyCard,
    client: PartyDetails,
    pdf_text: Callable[[bytes], str],
) -> None:
    contract = kind_contract(kind, notice_days=45, emergency_sla_days=1)
    context = context_for("contract", company, client, contract=contract)
    phrases = [
        "письменно уведомив Заказчика не менее чем за 45 (сорок пять) календарных дней. "
        "Новая стоимость оформляется протоколом согласования цены.",
        "письменно уведомив другую Сторону не менее чем за 45 (сорок пять) календарных дней.",
        "не позднее чем за 45 (сорок пять) календарных дней до окончания срока его действия",
        "выезжает на Объект по аварийной заявке Заказчика в течение 1 (одного) рабочего дня.",
    ]
    for text in (
        docx_text(render_docx("contract", context)),
        pdf_text(render_pdf("contract", context)),
    ):
        assert_says(text, phrases)
        assert "30 (тридцать)" not in text and "2 (двух)" not in text


@pytest.mark.parametrize(
    ("notice_days", "emergency_sla_days", "notice", "emergency"),
    [
        (1, 2, "за 1 (один) календарный день", "в течение 2 (двух) рабочих дней"),
        (2, 5, "за 2 (два) календарных дня", "в течение 5 (пяти) рабочих дней"),
        (5, 3, "за 5 (пять) календарных дней", "в течение 3 (трёх) рабочих дней"),
        (21, 10, "за 21 (двадцать один) календарный день", "в течение 10 (десяти) рабочих дней"),
        (30, 2, "за 30 (тридцать) календарных дней", "в течение 2 (двух) рабочих дней"),
    ],
)
def test_notice_and_emergency_plural_forms(
    notice_days: int,
    emergency_sla_days: int,
    notice: str,
    emergency: str,
    company: CompanyCard,
    client: PartyDetails,
) -> None:
    contract = make_contract(notice_days=notice_days, emergency_sla_days=emergency_sla_days)
    text = docx_text(
        render_docx("contract", context_for("contract", company, client, contract=contract))
    )
    assert text.count(notice) == 3  # fee change, termination, against auto-renewal
    assert_says(text, [f"по аварийной заявке Заказчика {emergency}."])


def test_no_notice_and_no_emergency_term(company: CompanyCard, client: PartyDetails) -> None:
    contract = make_contract(notice_days=0, emergency_sla_days=None)
    context = context_for("contract", company, client, contract=contract)
    for text in (
        docx_text(render_docx("contract", context)),
        normalise(render_html("contract", context)),
    ):
        assert_says(
            text,
            [
                "письменно уведомив Заказчика. Новая стоимость",
                "письменно уведомив другую Сторону.",
                "о прекращении Договора до окончания срока его действия",
                "по аварийной заявке Заказчика в согласованный Сторонами срок.",
            ],
        )
        assert "за 0" not in text and "календарных дн" not in text


def test_rent_paid_in_cash_from_the_installation(
    company: CompanyCard, client: PartyDetails, pdf_text: Callable[[bytes], str]
) -> None:
    contract = make_contract(
        kind="rent",
        payment_form="cash",
        vat_mode="exempt",
        bill_from_install=True,
        monthly_fee="7000.00",
        notice_days=60,
        access_points=0,  # a terminal in a shopping centre: no lanes to count
    )
    context = context_for("contract", company, client, contract=contract)
    phrases = [
        "арендную плату в размере 7 000,00 (Семь тысяч рублей 00 копеек) в месяц, "
        "НДС не облагается",
        "Арендная плата начисляется с даты установки Оборудования на Объекте, указанной "
        "в акте приёма-передачи; за неполный месяц",
        "наличными денежными средствами через уполномоченного представителя Арендатора",
        "подтверждает распиской, приходным кассовым ордером или кассовым чеком",
        "письменно уведомив другую Сторону не менее чем за 60 (шестьдесят) календарных дней.",
    ]
    for text in (
        docx_text(render_docx("contract", context)),
        pdf_text(render_pdf("contract", context)),
    ):
        assert_says(text, phrases)
        assert "расчётный счёт Арендодателя" not in text and "точек проезда" not in text


def test_rent_accrues_from_the_start_date(company: CompanyCard, client: PartyDetails) -> None:
    context = context_for("contract", company, client, contract=make_contract(kind="rent"))
    assert_says(
        docx_text(render_docx("contract", context)),
        ["Арендная плата начисляется с «01» января 2027 г.; за неполный месяц"],
    )


def test_rent_to_a_sole_trader_names_them_the_lessor(
    company: CompanyCard, sole_trader: PartyDetails
) -> None:
    contract = make_contract(kind="rent", payment_form="cash")
    context = context_for("contract", company, sole_trader, contract=contract)
    assert_says(
        docx_text(render_docx("contract", context)),
        [
            "Индивидуальный предприниматель Петров Пётр Петрович, именуемый в дальнейшем "
            "«Арендодатель», действующий на основании свидетельства"
        ],
    )


def test_cashless_rent_needs_the_lessors_bank_account(
    company: CompanyCard, sole_trader: PartyDetails
) -> None:
    with pytest.raises(ValidationError, match=r"client\.bank"):
        context_for("contract", company, sole_trader, contract=make_contract(kind="rent"))


def test_supply_is_paid_cashless() -> None:
    with pytest.raises(ValidationError, match="paid cashless"):
        make_contract(kind="supply", payment_form="cash")


def test_service_contract_needs_access_points() -> None:
    with pytest.raises(ValidationError, match="access points") as refused:
        make_contract(kind="maintenance", access_points=0)
    assert refused.value.errors()[0]["loc"] == ("access_points",)
    assert make_contract(kind="supply", access_points=0).access_points == 0


# --- the other documents for supply and rent -------------------------------------------------

SUPPLY_WORDS = "Триста пятьдесят тысяч рублей 00 копеек"
RENT_WORDS = "Семь тысяч рублей 00 копеек"
SERIAL = "PT-20417"
SUPPLEMENTARY = ["price_protocol", "acceptance_act", "termination_agreement", "extension_agreement"]

# the central case of seed 004: our terminal in a partner's shopping centre, rent paid in cash
RENT = {
    "kind": "rent",
    "monthly_fee": "7000.00",
    "vat_mode": "exempt",
    "payment_form": "cash",
    "bill_from_install": True,
    "access_points": 0,
}
SUPPLY = {"kind": "supply", "monthly_fee": "350000.00", "access_points": 0}
TERMINAL_ACT = HandoverFacts(
    number="Т-5",
    handed_on=date(2027, 1, 10),
    lines=(EquipmentLine(name="Платёжный терминал", serial=SERIAL),),
    work_order_no="З-2027/011",
)


def kind_context(
    name: str, kind: ContractKind, company: CompanyCard, client: PartyDetails, **changes: Any
) -> DocumentContext:
    """The document ``name`` of a supply or rent contract (the rent act is a terminal act)."""
    contract = make_contract(**(SUPPLY if kind is ContractKind.SUPPLY else RENT))
    parts: dict[str, Any] = {"contract": contract}
    if name == "acceptance_act" and kind is ContractKind.RENT:
        parts["handover"] = TERMINAL_ACT
    parts.update(changes)
    return context_for(name, company, client, **parts)


ROLE_NAMES = {
    ContractKind.SUPPLY: ("Поставщик", "Покупатель"),
    ContractKind.RENT: ("Арендатор", "Арендодатель"),
}

# (kind, document) -> the amount it writes in words (None: no amount), what else it says
KIND_DOCUMENTS: dict[tuple[ContractKind, str], tuple[str | None, list[str]]] = {
    (ContractKind.SUPPLY, "price_protocol"): (
        SUPPLY_WORDS,
        [
            "ПРОТОКОЛ СОГЛАСОВАНИЯ ЦЕНЫ",
            "согласовали цену Оборудования по договору",
            "Оборудование согласно спецификации к Договору",
            f"Цена Договора составляет 350 000,00 ({SUPPLY_WORDS}), в т.ч. НДС 22 %",
            "на расчётный счёт Поставщика на основании счёта Поставщика",
        ],
    ),
    (ContractKind.SUPPLY, "acceptance_act"): (
        EQUIPMENT_WORDS,
        [
            "АКТ ПРИЁМА-ПЕРЕДАЧИ ОБОРУДОВАНИЯ № А-17",
            f"Поставщик передал, а Покупатель принял в собственность на объекте по адресу: {SITE}",
            "Терминал оплаты парковки",
            "TP-000123",
            f"Стоимость переданного Оборудования составляет 190 000,00 ({EQUIPMENT_WORDS}), "
            "в т.ч. НДС 22 %",
            "Право собственности на Оборудование и риск его случайной гибели или повреждения "
            "переходят к Покупателю",
            "Передал: Поставщик",
            "Принял: Покупатель",
        ],
    ),
    (ContractKind.SUPPLY, "termination_agreement"): (
        SUPPLY_WORDS,
        [
            f"о расторжении договора № {CONTRACT_NO}",
            "с «01» июня 2027 г.",
            f"Цена Договора составляет 350 000,00 ({SUPPLY_WORDS})",
            "Поставщик возвращает на расчётный счёт Покупателя",
        ],
    ),
    (ContractKind.SUPPLY, "extension_agreement"): (
        NEW_FEE_WORDS,
        [
            "по «31» декабря 2028 г.",
            f"С «01» января 2028 г. цена Договора составляет 15 000,00 ({NEW_FEE_WORDS})",
        ],
    ),
    (ContractKind.RENT, "price_protocol"): (
        RENT_WORDS,
        [
            "согласовали размер арендной платы по договору",
            "Место для размещения платёжного терминала",
            f"Арендная плата составляет 7 000,00 ({RENT_WORDS}) в месяц, НДС не облагается",
            "начисляется с даты установки Оборудования на Объекте, указанной в акте",
            "наличными денежными средствами через уполномоченного представителя Арендатора",
        ],
    ),
    (ContractKind.RENT, "acceptance_act"): (
        None,
        [
            "АКТ ПРИЁМА-ПЕРЕДАЧИ ТЕРМИНАЛА № Т-5",
            "Арендатор передал, а Арендодатель принял для размещения и эксплуатации на объекте "
            f"по адресу: {SITE}",
            "Платёжный терминал",
            SERIAL,
            "Дата установки Оборудования на Объекте: «10» января 2027 г. Арендная плата "
            "начисляется с этой даты.",
            "является собственностью Арендатора и размещается на Объекте",
            "Основание: заявка на проведение работ № З-2027/011.",
            "Передал: Арендатор",
            "Принял: Арендодатель",
        ],
    ),
    (ContractKind.RENT, "termination_agreement"): (
        RENT_WORDS,
        [
            f"о расторжении договора № {CONTRACT_NO}",
            "с «01» июня 2027 г.",
            f"Арендная плата в размере 7 000,00 ({RENT_WORDS}) в месяц",
            "с даты расторжения наличными денежными средствами через уполномоченного "
            "представителя Арендатора",
            f"Арендатор демонтирует принадлежащее ему Оборудование (платёжный терминал) с Объекта "
            f"по адресу: {SITE}",
        ],
    ),
    (ContractKind.RENT, "extension_agreement"): (
        NEW_FEE_WORDS,
        [
            "по «31» декабря 2028 г.",
            f"С «01» января 2028 г. арендная плата составляет 15 000,00 ({NEW_FEE_WORDS}) в месяц",
            "Арендная плата выплачивается ежемесячно, не позднее 25-го числа текущего месяца, "
            "наличными денежными средствами",
        ],
    ),
}


def test_every_document_has_wording_for_every_kind() -> None:
    assert all(spec.contract_kinds == set(ContractKind) for spec in TEMPLATES.values())
    assert {name for _, name in KIND_DOCUMENTS} == set(SUPPLEMENTARY)


@pytest.mark.parametrize("kind", [ContractKind.SUPPLY, ContractKind.RENT])
@pytest.mark.parametrize("name", SUPPLEMENTARY)
def test_supply_and_rent_documents_in_docx_and_pdf(
    name: str,
    kind: ContractKind,
    company: CompanyCard,
    client: PartyDetails,
    pdf_text: Callable[[bytes], str],
) -> None:
    words, phrases = KIND_DOCUMENTS[kind, name]
    context = kind_context(name, kind, company, client)
    docx_bytes = render_docx(name, context)
    docx_says = docx_text(docx_bytes)  # python-docx opens it
    pdf_bytes = render_pdf(name, context)
    assert pdf_bytes.startswith(b"%PDF-")
    pdf_says = pdf_text(pdf_bytes)
    for text in (docx_says, pdf_says):
        assert "{{" not in text and "{%" not in text
        assert_says(text, [CLIENT_NAME, CONTRACT_NO, *ROLE_NAMES[kind], *phrases])
        if words is not None:
            assert_says(text, [words])
        leaked = [phrase for phrase in KIND_FOREIGN[kind] if phrase in text]
        assert not leaked, f"{kind} {name} says {leaked}"
    assert_pdf_says_every_docx_clause(pdf_says, docx_bytes)


@pytest.mark.parametrize("kind", [ContractKind.SUPPLY, ContractKind.RENT])
@pytest.mark.parametrize("name", [*SUPPLEMENTARY, "contract"])
def test_supply_and_rent_signature_blocks_name_the_kinds_roles(
    name: str, kind: ContractKind, company: CompanyCard, client: PartyDetails
) -> None:
    document = docx.Document(
        io.BytesIO(render_docx(name, kind_context(name, kind, company, client)))
    )
    ours, theirs = document.tables[-1].rows[0].cells
    prefixes = ("Передал: ", "Принял: ") if name == "acceptance_act" else ("", "")
    assert (ours.paragraphs[0].text, theirs.paragraphs[0].text) == tuple(
        prefix + role for prefix, role in zip(prefixes, ROLE_NAMES[kind], strict=True)
    )
    assert (ours.paragraphs[1].text, theirs.paragraphs[1].text) == (company.short_name, CLIENT_NAME)


def test_terminal_removal_from_a_rented_site(
    company: CompanyCard, client: PartyDetails, pdf_text: Callable[[bytes], str]
) -> None:
    removal = TERMINAL_ACT.model_copy(
        update={"direction": HandoverDirection.FROM_CLIENT, "handed_on": date(2027, 9, 3)}
    )
    context = kind_context("acceptance_act", ContractKind.RENT, company, client, handover=removal)
    phrases = [
        "Арендодатель передал, а Арендатор принял в связи со снятием с объекта по адресу",
        SERIAL,
        "Дата снятия Оборудования с Объекта: «03» сентября 2027 г.",
        "Место размещения Оборудования на Объекте освобождено.",
        "Передал: Арендодатель",
        "Принял: Арендатор",
    ]
    for text in (
        docx_text(render_docx("acceptance_act", context)),
        pdf_text(render_pdf("acceptance_act", context)),
    ):
        assert_says(text, phrases)
        assert "начисляется с этой даты" not in text and "Дата установки" not in text


def test_terminal_act_with_an_appraised_value_and_rent_from_the_start(
    company: CompanyCard, client: PartyDetails
) -> None:
    priced = TERMINAL_ACT.model_copy(
        update={
            "lines": (
                EquipmentLine(name="Платёжный терминал", serial=SERIAL, unit_price="150000.00"),
            )
        }
    )
    context = kind_context(
        "acceptance_act",
        ContractKind.RENT,
        company,
        client,
        handover=priced,
        contract=make_contract(**{**RENT, "bill_from_install": False}),
    )
    text = docx_text(render_docx("acceptance_act", context))
    assert_says(
        text,
        [
            "Общая оценочная стоимость оборудования: 150 000,00 (Сто пятьдесят тысяч рублей "
            "00 копеек).",
            "Дата установки Оборудования на Объекте: «10» января 2027 г.",
        ],
    )
    assert "начисляется с этой даты" not in text


def test_cashless_rent_documents_name_the_lessors_account(
    company: CompanyCard, client: PartyDetails, pdf_text: Callable[[bytes], str]
) -> None:
    cashless = make_contract(**{**RENT, "payment_form": "cashless"})
    for name in ("price_protocol", "termination_agreement", "extension_agreement"):
        context = kind_context(name, ContractKind.RENT, company, client, contract=cashless)
        for text in (docx_text(render_docx(name, context)), pdf_text(render_pdf(name, context))):
            assert_says(
                text,
                [
                    "в безналичном порядке путём перечисления денежных средств "
                    "на расчётный счёт Арендодателя"
                ],
            )
            assert "наличными денежными средствами через" not in text, name


def test_rent_price_protocol_for_a_fee_change(
    company: CompanyCard, client: PartyDetails, pdf_text: Callable[[bytes], str]
) -> None:
    context = kind_context(
        "price_protocol",
        ContractKind.RENT,
        company,
        client,
        amendment=AMENDMENTS[AmendmentKind.FEE_CHANGE],
    )
    phrases = [
        f"Арендная плата составляет 15 000,00 ({NEW_FEE_WORDS}) в месяц",
        "Арендная плата в указанном размере начисляется с «01» апреля 2027 г.",
        "Ранее действовавшая арендная плата 7 000,00 руб. в месяц применяется до "
        "«01» апреля 2027 г.",
    ]
    for text in (
        docx_text(render_docx("price_protocol", context)),
        pdf_text(render_pdf("price_protocol", context)),
    ):
        assert_says(text, phrases)
        assert "с даты установки" not in text


def test_supply_price_protocol_for_a_price_change(
    company: CompanyCard, client: PartyDetails, pdf_text: Callable[[bytes], str]
) -> None:
    context = kind_context(
        "price_protocol",
        ContractKind.SUPPLY,
        company,
        client,
        amendment=AMENDMENTS[AmendmentKind.FEE_CHANGE],
    )
    phrases = [
        f"Цена Договора составляет 15 000,00 ({NEW_FEE_WORDS}), в т.ч. НДС 22 %",
        "Цена применяется с «01» апреля 2027 г.",
        "Оборудование, поставленное до «01» апреля 2027 г., оплачивается по ранее "
        "согласованной цене 350 000,00 руб.",
    ]
    for text in (
        docx_text(render_docx("price_protocol", context)),
        pdf_text(render_pdf("price_protocol", context)),
    ):
        assert_says(text, phrases)
        assert "в месяц" not in text


@pytest.mark.parametrize(
    ("kind", "handover", "message"),
    [
        (
            ContractKind.RENT,
            HANDOVER.model_copy(update={"lines": (EquipmentLine(name="Платёжный терминал"),)}),
            r"handover\.lines\.0\.serial",
        ),
        (
            ContractKind.SUPPLY,
            HandoverFacts(
                number="А-1",
                handed_on=date(2027, 1, 10),
                lines=(EquipmentLine(name="Терминал", serial="T-1"),),
            ),
            r"handover\.lines\.0\.unit_price",
        ),
        (
            ContractKind.SUPPLY,
            HANDOVER.model_copy(update={"direction": HandoverDirection.FROM_CLIENT}),
            r"handover\.direction",
        ),
    ],
)
def test_acts_of_supply_and_rent_refuse_what_they_cannot_print(
    kind: ContractKind,
    handover: HandoverFacts,
    message: str,
    company: CompanyCard,
    client: PartyDetails,
) -> None:
    with pytest.raises(ValidationError, match=message):
        kind_context("acceptance_act", kind, company, client, handover=handover)


def test_an_acceptance_act_is_bounded_in_lines_and_quantities() -> None:
    # the rendering work one request may ask for is bounded (3,000 lines took 70 s of CPU)
    line = HANDOVER.lines[0]
    from contracts.documents.context import MAX_ACT_LINES

    HandoverFacts(number="А-1", handed_on=date(2027, 1, 10), lines=(line,) * MAX_ACT_LINES)
    with pytest.raises(ValidationError, match="lines"):
        HandoverFacts(number="А-1", handed_on=date(2027, 1, 10),
                      lines=(line,) * (MAX_ACT_LINES + 1))
    with pytest.raises(ValidationError, match="qty"):
        EquipmentLine(name="Терминал", qty=10**9)
