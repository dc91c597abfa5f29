import io
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from PIL import Image

from billing.domain.bank_statement import extract_invoice_numbers
from billing.domain.payment_qr import (
    PaymentDetails,
    invoice_purpose,
    payment_string,
    render_png,
    render_svg,
)

pytestmark = pytest.mark.unit

# our company card, as on the sample bank statement
PAYEE = PaymentDetails(
    name='ООО "КЛИЕНТОПС"',
    personal_acc="40702810938000012345",
    bank_name="ПАО СБЕРБАНК",
    bic="044525225",
    corresp_acc="30101810400000000225",
)
REQUIRED = (
    'ST00012|Name=ООО "КЛИЕНТОПС"|PersonalAcc=40702810938000012345|BankName=ПАО СБЕРБАНК'
    "|BIC=044525225|CorrespAcc=30101810400000000225"
)
DECEMBER_INVOICE = replace(
    PAYEE,
    payee_inn="7701000001",
    kpp="770101001",
    amount=Decimal("15250.00"),
    purpose="Оплата по счёту № СЧ-2026-12-0001 от 15.12.2026. Сумма 15250-00, в т.ч. НДС 2750-00",
)


def test_required_fields_only() -> None:
    assert payment_string(PAYEE) == REQUIRED


def test_invoice_payment_golden() -> None:
    assert payment_string(DECEMBER_INVOICE) == (
        REQUIRED + "|Sum=1525000"
        "|Purpose=Оплата по счёту № СЧ-2026-12-0001 от 15.12.2026."
        " Сумма 15250-00, в т.ч. НДС 2750-00"
        "|PayeeINN=7701000001|KPP=770101001"
    )


def test_extra_keys_follow_the_standard_order() -> None:
    details = replace(
        PAYEE,
        amount=Decimal("100"),
        extra={
            "UIN": "0",
            "Contract": "2026-0002",
            "DocNo": "СЧ-2026-12-0002",
            "PayerINN": "7736207543",
        },
    )
    assert payment_string(details) == (
        REQUIRED + "|Sum=10000|PayerINN=7736207543|DocNo=СЧ-2026-12-0002|Contract=2026-0002|UIN=0"
    )


@pytest.mark.parametrize(
    ("amount", "kopecks"), [("0.01", "1"), ("12500", "1250000"), ("8870.97", "887097")]
)
def test_sum_is_in_kopecks(amount: str, kopecks: str) -> None:
    assert payment_string(replace(PAYEE, amount=Decimal(amount))).endswith(f"|Sum={kopecks}")


def test_payload_is_utf8_text() -> None:
    payload = payment_string(DECEMBER_INVOICE)
    assert payload.startswith("ST00012|")
    assert "КЛИЕНТОПС".encode() in payload.encode("utf-8")


def test_purpose_names_the_invoice_for_matching() -> None:
    purpose = invoice_purpose(
        "СЧ-2026-12-0001", date(2026, 12, 15), Decimal("15250.00"), Decimal("2750.00")
    )
    assert purpose == DECEMBER_INVOICE.purpose
    assert extract_invoice_numbers(purpose) == ("СЧ-2026-12-0001",)
    exempt = invoice_purpose("СЧ-2026-12-0002", date(2026, 12, 15), Decimal("12500"), None)
    assert exempt.endswith("Сумма 12500-00, НДС не облагается")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "ООО |КЛИЕНТОПС|"}, "separator"),
        ({"purpose": "Оплата | аванс"}, "separator"),
        ({"bank_name": "ПАО\nСБЕРБАНК"}, "line breaks"),
        ({"name": ""}, "non-empty"),
        ({"name": " ООО"}, "surrounding spaces"),
        ({"name": "Я" * 161}, "allows 160"),
        ({"purpose": "п" * 211}, "allows 210"),
        ({"bank_name": "Б" * 46}, "allows 45"),
        ({"personal_acc": "4070281093800001234"}, "20 digits"),
        ({"bic": "04452522X"}, "9 digits"),
        ({"corresp_acc": "301"}, "20 digits or 0"),
        ({"payee_inn": "77010000"}, "10 or 12 digits"),
        ({"kpp": "7701"}, "9 characters"),
        ({"amount": Decimal("0")}, "positive"),
        ({"amount": Decimal("-1.00")}, "positive"),
        ({"amount": Decimal("1.005")}, "two decimal places"),
        ({"amount": 15250.0}, "float"),
        ({"extra": {"PayerINN": "7707|083893"}}, "separator"),
    ],
)
def test_refuses_bad_values(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        payment_string(replace(PAYEE, **change))  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["Sum", "Purpose", "KPP", "PayeeINN", "Nmae", "Name"])
def test_extra_refuses_unknown_or_own_keys(key: str) -> None:
    with pytest.raises(ValueError, match="not an optional key"):
        replace(PAYEE, extra={key: "1"})


def test_corresp_acc_may_be_zero() -> None:
    assert "|CorrespAcc=0" in payment_string(replace(PAYEE, corresp_acc="0"))


def test_render_png() -> None:
    png = render_png(payment_string(DECEMBER_INVOICE), scale=3, border=4)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    width, height = image.size
    assert width == height and width % 3 == 0
    # version 1 is 21 modules; ours carries ~270 bytes and needs far more
    assert width // 3 - 8 > 21


def test_render_svg_matches_the_png() -> None:
    payload = payment_string(DECEMBER_INVOICE)
    svg = render_svg(payload, scale=3)
    assert not svg.startswith("<?xml")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    size = Image.open(io.BytesIO(render_png(payload, scale=3))).size[0]
    assert int(root.attrib["width"]) == size


def test_render_refuses_what_is_not_a_payment_string() -> None:
    with pytest.raises(ValueError, match="GOST"):
        render_png("https://example.org")
    with pytest.raises(ValueError, match="GOST"):
        render_svg("ST00011|Name=cp1251")
