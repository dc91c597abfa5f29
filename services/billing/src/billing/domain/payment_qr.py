"""Payment QR codes: the GOST R 56042-2014 string that Russian banking apps read.

``ST0001`` + ``2`` (UTF-8) then ``|``-separated ``Key=Value`` pairs: the five required
payee keys first, then the optional ones in the standard's order. The string is ours (small,
golden-tested); drawing the code is segno's.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType

import segno

from clientops_shared.types import parse_money

FORMAT_ID = "ST0001"
UTF8_FLAG = "2"
"""The standard's encoding flag: 1 windows-1251, 2 UTF-8, 3 KOI8-R. We always write UTF-8."""
SEPARATOR = "|"
HEADER = f"{FORMAT_ID}{UTF8_FLAG}"

# Additional details (table 2) in the standard's order, with their maximum lengths.
_ADDITIONAL: Mapping[str, int] = MappingProxyType(
    {
        "Sum": 18,
        "Purpose": 210,
        "PayeeINN": 12,
        "PayerINN": 12,
        "DrawerStatus": 2,
        "KPP": 9,
        "CBC": 20,
        "OKTMO": 11,
        "PaytReason": 2,
        "TaxPeriod": 10,
        "DocNo": 15,
        "DocDate": 10,
        "TaxPaytKind": 2,
    }
)
# Other details (table 3), in the standard's order.
_OTHER = (
    "LastName",
    "FirstName",
    "MiddleName",
    "PayerAddress",
    "PersonalAccount",
    "DocIdx",
    "PensAcc",
    "Contract",
    "PersAcc",
    "Flat",
    "Phone",
    "PayerIdType",
    "PayerIdNum",
    "ChildFio",
    "BirthDate",
    "PaymTerm",
    "PaymPeriod",
    "Category",
    "ServiceName",
    "CounterId",
    "CounterVal",
    "QuittId",
    "QuittDate",
    "InstNum",
    "ClassNum",
    "SpecFio",
    "AddAmount",
    "RuleId",
    "ExecId",
    "RegType",
    "UIN",
    "TechCode",
)
# keys with a field of their own in PaymentDetails are not accepted again in ``extra``
_OWN_FIELDS = frozenset({"Sum", "Purpose", "PayeeINN", "KPP"})
_EXTRA_KEYS = frozenset(_ADDITIONAL) - _OWN_FIELDS | frozenset(_OTHER)

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _check_value(key: str, value: str) -> str:
    if SEPARATOR in value:
        raise ValueError(f"{key} must not contain '{SEPARATOR}', the field separator: {value!r}")
    if _CONTROL_RE.search(value):
        raise ValueError(f"{key} must not contain line breaks or control characters: {value!r}")
    if value != value.strip() or not value:
        raise ValueError(f"{key} must be non-empty without surrounding spaces: {value!r}")
    return value


def _check_pattern(key: str, value: str, pattern: str, what: str) -> str:
    if re.fullmatch(pattern, value) is None:
        raise ValueError(f"{key} must be {what}, got {value!r}")
    return value


def _check_length(key: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise ValueError(f"{key} is {len(value)} characters, the standard allows {limit}")
    return value


@dataclass(frozen=True)
class PaymentDetails:
    """The payee and the payment, as the QR code carries them. ``amount`` is in rubles."""

    name: str
    personal_acc: str
    bank_name: str
    bic: str
    corresp_acc: str
    payee_inn: str | None = None
    kpp: str | None = None
    amount: Decimal | None = None
    purpose: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Other keys of the standard by their names, e.g. ``{"PayerINN": ..., "UIN": ...}``."""

    def __post_init__(self) -> None:
        for key in self.extra:
            if key not in _EXTRA_KEYS:
                raise ValueError(f"{key!r} is not an optional key of GOST R 56042-2014")
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def fields(self) -> tuple[tuple[str, str], ...]:
        """Validated ``(key, value)`` pairs in the order they are written."""
        pairs: list[tuple[str, str]] = [
            ("Name", _check_length("Name", self.name, 160)),
            (
                "PersonalAcc",
                _check_pattern("PersonalAcc", self.personal_acc, r"\d{20}", "20 digits"),
            ),
            ("BankName", _check_length("BankName", self.bank_name, 45)),
            ("BIC", _check_pattern("BIC", self.bic, r"\d{9}", "9 digits")),
            (
                "CorrespAcc",
                _check_pattern("CorrespAcc", self.corresp_acc, r"\d{20}|0", "20 digits or 0"),
            ),
        ]
        optional: dict[str, str] = dict(self.extra)
        if self.amount is not None:
            optional["Sum"] = str(_kopecks(self.amount))
        if self.purpose:
            optional["Purpose"] = self.purpose
        if self.payee_inn:
            optional["PayeeINN"] = _check_pattern(
                "PayeeINN", self.payee_inn, r"\d{10}|\d{12}", "10 or 12 digits"
            )
        if self.kpp:
            optional["KPP"] = _check_pattern(
                "KPP", self.kpp, r"\d{4}[\dA-Z]{2}\d{3}", "9 characters like 770101001"
            )
        for key in (*_ADDITIONAL, *_OTHER):
            if key in optional:
                value = optional[key]
                limit = _ADDITIONAL.get(key)
                pairs.append((key, value if limit is None else _check_length(key, value, limit)))
        return tuple((key, _check_value(key, value)) for key, value in pairs)


def _kopecks(amount: Decimal) -> int:
    rubles = parse_money(amount)
    if rubles <= 0:
        raise ValueError(f"Sum must be positive, got {amount}")
    return int(rubles * 100)


def payment_string(details: PaymentDetails) -> str:
    """The text to encode: ``ST00012|Name=…|PersonalAcc=…|…``."""
    return SEPARATOR.join((HEADER, *(f"{key}={value}" for key, value in details.fields())))


def invoice_purpose(number: str, issued_on: date, total: Decimal, vat: Decimal | None) -> str:
    """A purpose that names the invoice, so the bank statement match finds it by number."""
    vat_part = "НДС не облагается" if vat is None else f"в т.ч. НДС {_rubles(vat)}"
    return f"Оплата по счёту № {number} от {issued_on:%d.%m.%Y}. Сумма {_rubles(total)}, {vat_part}"


def _rubles(amount: Decimal) -> str:
    # «15250-00»: how payment orders write sums, and no dot to confuse with dates
    return f"{parse_money(amount):.2f}".replace(".", "-")


def _qr(payload: str) -> segno.QRCode:
    if not payload.startswith(HEADER + SEPARATOR):
        raise ValueError(f"not a GOST R 56042-2014 UTF-8 payment string: {payload[:16]!r}")
    # error level M is what the banks' guides ask for; no ECI header, which some apps reject
    return segno.make(payload, error="m", encoding="utf-8", micro=False, boost_error=False)


def render_png(payload: str, *, scale: int = 4, border: int = 4) -> bytes:
    """The QR code as PNG bytes (nothing is written to disk)."""
    buffer = io.BytesIO()
    _qr(payload).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def render_svg(payload: str, *, scale: int = 4, border: int = 4) -> str:
    """The QR code as SVG text, without an XML declaration so it can be inlined in HTML."""
    buffer = io.BytesIO()
    _qr(payload).save(buffer, kind="svg", scale=scale, border=border, xmldecl=False)
    return buffer.getvalue().decode("utf-8")
