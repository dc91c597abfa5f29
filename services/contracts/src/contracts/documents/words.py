"""Russian wording for documents: amounts in figures and in words, dates.

Thousands are separated by a no-break space (U+00A0), not the typographic narrow one
(U+202F): every Word and PDF font has U+00A0, and it still keeps "12 500,00" on one line.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import phonenumbers
from pytils import numeral

from clientops_shared.types import quantize_money

NBSP = "\u00a0"

RUBLE_FORMS = ("рубль", "рубля", "рублей")
KOPECK_FORMS = ("копейка", "копейки", "копеек")

# genitive month names, as in «15» декабря 2026 г.
MONTHS_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)

# pytils.numeral.sum_string refuses 10**11 and above
MAX_AMOUNT_IN_WORDS = Decimal(10**11) - Decimal("0.01")


def _split_rubles(amount: Decimal) -> tuple[int, int]:
    kopecks = int(quantize_money(amount) * 100)
    return divmod(kopecks, 100)


def amount_in_words(amount: Decimal) -> str:
    """Amount as written in contracts: "Двенадцать тысяч пятьсот рублей 00 копеек".

    Rubles in words, kopecks in two figures (the accounting convention), each noun in
    the plural form its number demands. The amount is rounded to kopecks half-up.
    """
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"amount in words needs a non-negative finite amount, got {amount}")
    if quantize_money(amount) > MAX_AMOUNT_IN_WORDS:
        raise ValueError(f"amount {amount} is too large to write in words")
    rubles, kopecks = _split_rubles(amount)
    # рубль is masculine, so pytils writes "один рубль", "два рубля"
    rubles_text = numeral.sum_string(rubles, numeral.MALE, RUBLE_FORMS)
    kopecks_text = f"{kopecks:02d} {numeral.choose_plural(kopecks, KOPECK_FORMS)}"
    return f"{rubles_text[0].upper()}{rubles_text[1:]} {kopecks_text}"


def format_amount(amount: Decimal) -> str:
    """Amount in figures, Russian style: "12 500,00" (no-break space, decimal comma)."""
    if not amount.is_finite():
        raise ValueError(f"cannot format {amount}")
    grouped = f"{quantize_money(amount):,.2f}"  # "-12,500.00"
    return grouped.replace(",", NBSP).replace(".", ",")


def format_rubles(amount: Decimal) -> str:
    """Amount with its words: "12 500,00 (Двенадцать тысяч пятьсот рублей 00 копеек)"."""
    return f"{format_amount(amount)} ({amount_in_words(amount)})"


def format_percent(rate: Decimal) -> str:
    """A rate such as 22 or 7.5 as "22 %" or "7,5 %" (Russian decimal comma)."""
    text = format(rate.normalize(), "f").replace(".", ",")
    return f"{text} %"


def date_long(value: date) -> str:
    """Date as written in contracts: "«15» декабря 2026 г." (day always two digits)."""
    return f"«{value.day:02d}» {MONTHS_GENITIVE[value.month - 1]} {value.year} г."


def date_short(value: date) -> str:
    """Date in figures: "15.12.2026"."""
    return f"{value.day:02d}.{value.month:02d}.{value.year}"


def format_phone(e164: str) -> str:
    """Phone for print: "+74951234567" -> "+7 495 123-45-67"."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
