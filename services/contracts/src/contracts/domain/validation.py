"""Validators for Russian requisites: INN, KPP, OGRN, BIK, bank accounts, phone numbers.

Plain functions raise ``ValueError`` with an English message (the language of every API
error); the ``Annotated`` aliases wrap them so pydantic models and FastAPI bodies validate
and normalise in one step. Pure Python: no I/O, no framework imports besides pydantic.
"""

from __future__ import annotations

import re
from itertools import cycle
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, WithJsonSchema

from clientops_shared.types import Inn as SharedInn
from clientops_shared.types import validate_inn as validate_inn  # one copy, shared

# [0-9], not \d: \d also matches other scripts' digits, which no registry issues
_DIGITS = re.compile(r"[0-9]+")
# 5th-6th characters are the registration reason: digits or capital Latin letters (FNS order)
_KPP = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")
# people paste requisites from cards and PDFs with spaces, NBSPs or dashes between groups
_SEPARATORS = re.compile(r"[\s\-]+")
# weights of the Bank of Russia account control key: 7, 1, 3 repeated over 23 digits
_ACCOUNT_KEY_WEIGHTS = (7, 1, 3)


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", value)


def _require_digits(value: str, lengths: tuple[int, ...], what: str) -> str:
    compact = _compact(value)
    if not _DIGITS.fullmatch(compact) or len(compact) not in lengths:
        wanted = " or ".join(str(n) for n in lengths)
        raise ValueError(f"{what} must be {wanted} digits, got {value!r}")
    return compact


def is_sole_trader_inn(inn: str) -> bool:
    """A 12-digit INN belongs to a person (sole trader), a 10-digit one to an organisation."""
    return len(_compact(inn)) == 12


def validate_kpp(value: str) -> str:
    """Return the KPP upper-cased: 9 characters NNNNXXNNN, X a digit or capital Latin letter."""
    kpp = _compact(value).upper()
    if not _KPP.fullmatch(kpp):
        raise ValueError(
            "KPP must be 9 characters NNNNXXNNN (N a digit, X a digit or a Latin capital), "
            f"got {value!r}"
        )
    return kpp


def validate_ogrn(value: str) -> str:
    """Return the OGRN (13 digits) or OGRNIP (15 digits) after checking its control digit."""
    number = _require_digits(value, (13, 15), "OGRN")
    if len(number) == 13:
        if number[0] == "0":
            raise ValueError(f"OGRN {number}: must not start with 0")
        expected = int(number[:-1]) % 11 % 10
    else:
        if number[0] not in "34":
            raise ValueError(f"OGRNIP {number}: must start with 3 or 4")
        # the control digit is the last digit of the remainder modulo 13; python-stdnum 2.2
        # compares the whole remainder and so rejects valid numbers whose remainder is 10-12
        expected = int(number[:-1]) % 13 % 10
    if int(number[-1]) != expected:
        raise ValueError(f"OGRN {number}: invalid checksum")
    return number


def validate_bik(value: str) -> str:
    """Return the BIK (bank identifier): 9 digits."""
    return _require_digits(value, (9,), "BIK")


def validate_bank_account(value: str) -> str:
    """Return a settlement or correspondent account number: 20 digits."""
    return _require_digits(value, (20,), "bank account")


def _account_key_ok(prefix: str, account: str) -> bool:
    digits = prefix + account
    return sum(int(d) * w for d, w in zip(digits, cycle(_ACCOUNT_KEY_WEIGHTS))) % 10 == 0


def account_matches_bik(account: str, bik: str) -> bool:
    """Check a settlement account's control key against the bank's BIK.

    The key covers the last three BIK digits (the bank's number within its
    clearing centre) followed by the 20 account digits, weights 7, 1, 3; a valid
    pair sums to a multiple of 10.
    """
    return _account_key_ok(validate_bik(bik)[-3:], validate_bank_account(account))


def corr_account_matches_bik(corr_account: str, bik: str) -> bool:
    """Check a correspondent account's key: prefixed with "0" and BIK digits 5-6."""
    return _account_key_ok("0" + validate_bik(bik)[4:6], validate_bank_account(corr_account))


def normalize_phone(value: str, region: str = "RU") -> str:
    """Return the number in E.164 ("+74951234567"); local numbers are read as Russian."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"not a phone number: {value!r}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"not a valid phone number: {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _schema(pattern: str, example: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern, "examples": [example]})


Inn = SharedInn
"""INN of an organisation (10 digits) or a sole trader (12 digits), checksum verified."""

Kpp = Annotated[str, AfterValidator(validate_kpp), _schema(r"^\d{4}[\dA-Z]{2}\d{3}$", "770701001")]
"""KPP (tax registration reason code) of an organisation."""

Ogrn = Annotated[str, AfterValidator(validate_ogrn), _schema(r"^(\d{13}|\d{15})$", "1027700001230")]
"""OGRN (13 digits) or OGRNIP (15 digits), control digit verified."""

Bik = Annotated[str, AfterValidator(validate_bik), _schema(r"^\d{9}$", "044525225")]
"""BIK of a Russian bank."""

BankAccount = Annotated[
    str, AfterValidator(validate_bank_account), _schema(r"^\d{20}$", "40702810938000012345")
]
"""Settlement or correspondent account number; pair it with a BIK via account_matches_bik."""

PhoneE164 = Annotated[
    str, AfterValidator(normalize_phone), _schema(r"^\+\d{8,15}$", "+74951234567")
]
"""Phone number normalised to E.164; numbers without a country code are Russian."""
