"""Validators for Russian requisites: INN, KPP, OGRN, BIK, bank accounts, phones."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError
from stdnum.ru import ogrn as stdnum_ogrn

from contracts.domain.validation import (
    BankAccount,
    Bik,
    Inn,
    Kpp,
    Ogrn,
    PhoneE164,
    account_matches_bik,
    corr_account_matches_bik,
    is_sole_trader_inn,
    normalize_phone,
    validate_bank_account,
    validate_bik,
    validate_inn,
    validate_kpp,
    validate_ogrn,
)

pytestmark = pytest.mark.unit

# public organisations' INNs from shared/data/README.md, our own, and a sole trader's
VALID_INNS = [
    "7707083893",
    "7736207543",
    "7740000076",
    "7712040126",
    "7702070139",
    "7708004767",
    "2309085638",
    "7707049388",
    "7701000001",
    "772012345670",
]


class Requisites(BaseModel):
    inn: Inn
    kpp: Kpp | None = None
    ogrn: Ogrn | None = None
    bik: Bik | None = None
    account: BankAccount | None = None
    phone: PhoneE164 | None = None


# --- INN ---------------------------------------------------------------------------------


@pytest.mark.parametrize("inn", VALID_INNS)
def test_valid_inn_is_accepted(inn: str) -> None:
    assert validate_inn(inn) == inn


def test_inn_separators_are_removed() -> None:
    assert validate_inn(" 7707 083 893 ") == "7707083893"
    assert validate_inn("7707-083-893") == "7707083893"


@pytest.mark.parametrize(
    "inn",
    [
        "7707083890",  # last digit changed
        "7736207544",
        "7701000002",
        "772012345671",  # 12 digits, second check digit wrong
        "772012345660",  # 12 digits, first check digit wrong
    ],
)
def test_inn_with_wrong_checksum_is_rejected(inn: str) -> None:
    with pytest.raises(ValueError, match=rf"^INN {inn}: invalid checksum$"):
        validate_inn(inn)


@pytest.mark.parametrize("inn", ["", "123", "77070838931", "7707083893123", "77070838AB"])
def test_inn_with_wrong_length_or_characters_is_rejected(inn: str) -> None:
    with pytest.raises(ValueError, match="INN must be 10 digits"):
        validate_inn(inn)


def test_sole_trader_inn_has_twelve_digits() -> None:
    assert is_sole_trader_inn("772012345670")
    assert not is_sole_trader_inn("7707083893")


def test_inn_in_a_pydantic_model() -> None:
    assert Requisites(inn="7707 083893").inn == "7707083893"
    with pytest.raises(ValidationError) as caught:
        Requisites(inn="7707083890")
    (error,) = caught.value.errors()
    assert error["loc"] == ("inn",)
    assert "INN 7707083890: invalid checksum" in error["msg"]


def test_inn_json_schema_describes_the_canonical_form() -> None:
    schema = Requisites.model_json_schema()["properties"]["inn"]
    assert schema["type"] == "string"
    assert schema["pattern"] == r"^(\d{10}|\d{12})$"


# --- KPP ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("770101001", "770101001"),
        ("773601001", "773601001"),
        ("7701AB001", "7701AB001"),  # reason code may hold Latin capitals
        ("7701ab001", "7701AB001"),
        (" 7701 01 001 ", "770101001"),
    ],
)
def test_valid_kpp_is_normalised(raw: str, expected: str) -> None:
    assert validate_kpp(raw) == expected


@pytest.mark.parametrize("kpp", ["77010100", "7701010011", "77010100A", "A70101001", "7701ЖЖ001"])
def test_invalid_kpp_is_rejected(kpp: str) -> None:
    with pytest.raises(ValueError, match="KPP must be 9 characters NNNNXXNNN"):
        validate_kpp(kpp)


# --- OGRN --------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1027700132195", "1027700001230", "316774600000128"])
def test_valid_ogrn_is_accepted(number: str) -> None:
    assert validate_ogrn(number) == number


def test_ogrnip_whose_remainder_exceeds_nine_is_accepted() -> None:
    # 31677460000001 % 13 == 10: the control digit is the remainder's last digit, 0;
    # python-stdnum 2.2 rejects this valid number, which is why we check it ourselves
    number = "316774600000010"
    assert int(number[:-1]) % 13 == 10
    assert not stdnum_ogrn.is_valid(number)
    assert validate_ogrn(number) == number


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1027700132196", "invalid checksum"),
        ("316774600000129", "invalid checksum"),
        ("0027700132195", "must not start with 0"),
        ("516774600000128", "must start with 3 or 4"),
        ("10277001321", "OGRN must be 13 or 15 digits"),
        ("10277001321AB", "OGRN must be 13 or 15 digits"),
    ],
)
def test_invalid_ogrn_is_rejected(number: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_ogrn(number)


# --- BIK and accounts --------------------------------------------------------------------


def test_bik_must_be_nine_digits() -> None:
    assert validate_bik("044525225") == "044525225"
    for bad in ("04452522", "0445252250", "04452522A"):
        with pytest.raises(ValueError, match="BIK must be 9 digits"):
            validate_bik(bad)


def test_bank_account_must_be_twenty_digits() -> None:
    assert validate_bank_account("4070 2810 9380 0001 2345") == "40702810938000012345"
    for bad in ("4070281093800001234", "407028109380000123456", "4070281093800001234X"):
        with pytest.raises(ValueError, match="bank account must be 20 digits"):
            validate_bank_account(bad)


@pytest.mark.parametrize(
    ("account", "bik"),
    [
        ("40702810938000012345", "044525225"),  # legal entity at Sberbank, Moscow
        ("40802810438000054321", "044525225"),  # sole trader at Sberbank
        ("40702810600000004567", "044525974"),  # legal entity at T-Bank
    ],
)
def test_settlement_account_matches_its_bik(account: str, bik: str) -> None:
    assert account_matches_bik(account, bik)


def test_any_single_digit_typo_breaks_the_account_key() -> None:
    account, bik = "40702810938000012345", "044525225"
    for position in range(len(account)):
        digit = int(account[position])
        typo = f"{account[:position]}{(digit + 1) % 10}{account[position + 1 :]}"
        assert not account_matches_bik(typo, bik), typo


def test_account_checked_against_another_bank_fails() -> None:
    assert not account_matches_bik("40702810938000012345", "044525974")


def test_correspondent_account_matches_its_bik() -> None:
    assert corr_account_matches_bik("30101810400000000225", "044525225")
    assert corr_account_matches_bik("30101810145250000974", "044525974")
    # only BIK digits 5-6 (the clearing centre) enter the key: compare across regions
    assert corr_account_matches_bik("30101810907020000615", "040702615")
    assert not corr_account_matches_bik("30101810400000000225", "040702615")


def test_account_key_check_validates_its_inputs() -> None:
    with pytest.raises(ValueError, match="BIK must be 9 digits"):
        account_matches_bik("40702810938000012345", "04452522")
    with pytest.raises(ValueError, match="bank account must be 20 digits"):
        account_matches_bik("407028109380000123", "044525225")


# --- phones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8 (495) 123-45-67", "+74951234567"),
        ("+7 495 1234567", "+74951234567"),
        ("84951234567", "+74951234567"),
        ("(495) 123-45-67", "+74951234567"),
        ("8 916 123 45 67", "+79161234567"),
        ("+7 (800) 555-35-35", "+78005553535"),
        ("+375 17 123-45-67", "+375171234567"),  # an explicit country code is kept
    ],
)
def test_phone_is_normalised_to_e164(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "+7 495 123", "8 (495) 123-45-678", "phone", ""])
def test_invalid_phone_is_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        normalize_phone(raw)


def test_phone_in_a_pydantic_model() -> None:
    assert Requisites(inn="7707083893", phone="8 (495) 123-45-67").phone == "+74951234567"
    with pytest.raises(ValidationError, match="not a valid phone number"):
        Requisites(inn="7707083893", phone="+7 495 123")


def test_requisites_model_normalises_every_field() -> None:
    parsed = Requisites(
        inn="7707083893",
        kpp="770701001",
        ogrn="1027700132195",
        bik="044 525 225",
        account="40702810938000012345",
    )
    assert (parsed.bik, parsed.account) == ("044525225", "40702810938000012345")
    with pytest.raises(ValidationError) as caught:
        Requisites(inn="7707083893", kpp="7707", ogrn="1", bik="1", account="1")
    assert {error["loc"][0] for error in caught.value.errors()} == {
        "kpp",
        "ogrn",
        "bik",
        "account",
    }


def test_only_ascii_digits_count() -> None:
    # Arabic-Indic digits match \d and int() reads them, but no requisite is written so
    arabic_inn = "7707083893".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    with pytest.raises(ValueError, match="INN must be 10 digits"):
        validate_inn(arabic_inn)
    with pytest.raises(ValueError, match="BIK must be 9 digits"):
        validate_bik("٠٤٤٥٢٥٢٢٥")
    with pytest.raises(ValueError, match="KPP must be 9 characters"):
        validate_kpp("٧٧٠١٠١٠٠١")
