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

# numerals in the genitive, for "в течение 2 (двух) рабочих дней"; pytils only writes the
# nominative. Compound numerals decline every word: "сорока пяти", "ста двадцати одного".
_GENITIVE_UNITS = (
    "",
    "одного",
    "двух",
    "трёх",
    "четырёх",
    "пяти",
    "шести",
    "семи",
    "восьми",
    "девяти",
)
_GENITIVE_TEENS = (
    "десяти",
    "одиннадцати",
    "двенадцати",
    "тринадцати",
    "четырнадцати",
    "пятнадцати",
    "шестнадцати",
    "семнадцати",
    "восемнадцати",
    "девятнадцати",
)
_GENITIVE_TENS = (
    "",
    "",
    "двадцати",
    "тридцати",
    "сорока",
    "пятидесяти",
    "шестидесяти",
    "семидесяти",
    "восьмидесяти",
    "девяноста",
)
_GENITIVE_HUNDREDS = (
    "",
    "ста",
    "двухсот",
    "трёхсот",
    "четырёхсот",
    "пятисот",
    "шестисот",
    "семисот",
    "восьмисот",
    "девятисот",
)

# "за 1 календарный день", "в течение 1 (одного) рабочего дня": the noun phrase after a
# number, by the number's plural class (1 / 2-4 / 5+) and by case
_DAY_FORMS = {
    # (working, genitive) -> (one, few, many)
    (False, False): ("календарный день", "календарных дня", "календарных дней"),
    (True, False): ("рабочий день", "рабочих дня", "рабочих дней"),
    (False, True): ("календарного дня", "календарных дней", "календарных дней"),
    (True, True): ("рабочего дня", "рабочих дней", "рабочих дней"),
}

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


def genitive_in_words(number: int) -> str:
    """0 <= number < 1000 in words, genitive case, masculine: 45 -> "сорока пяти"."""
    if not 0 <= number < 1000:
        raise ValueError(f"genitive numerals are written for 0..999, got {number}")
    if number == 0:
        return "ноля"
    hundreds, rest = divmod(number, 100)
    tens, units = divmod(rest, 10)
    words = [_GENITIVE_HUNDREDS[hundreds]]
    if tens == 1:
        words.append(_GENITIVE_TEENS[units])
    else:
        words += [_GENITIVE_TENS[tens], _GENITIVE_UNITS[units]]
    return " ".join(word for word in words if word)


def days_in_words(days: int, *, working: bool = False, genitive: bool = False) -> str:
    """A number of days as contracts write it, the noun agreeing with the number.

    Accusative, after "за" / "на": "45 (сорок пять) календарных дней", "1 (один) календарный
    день", "2 (два) рабочих дня". Genitive, after "в течение": "1 (одного) рабочего дня",
    "2 (двух) рабочих дней", "21 (двадцати одного) рабочего дня".
    """
    if days < 0:
        raise ValueError(f"a number of days must not be negative, got {days}")
    if genitive:
        words = genitive_in_words(days)
    else:
        # день is masculine; inanimate accusative equals the nominative
        words = numeral.in_words(days, numeral.MALE) if days else "ноль"
    noun = numeral.choose_plural(days, _DAY_FORMS[working, genitive])
    return f"{days} ({words}) {noun}"


def calendar_days(days: int) -> str:
    """ "за {{ n|calendar_days }}": "за 45 (сорок пять) календарных дней"."""
    return days_in_words(days)


def within_working_days(days: int) -> str:
    """ "в течение {{ n|within_working_days }}": "в течение 1 (одного) рабочего дня"."""
    return days_in_words(days, working=True, genitive=True)


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
