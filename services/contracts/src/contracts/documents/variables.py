"""Turn a DocumentContext into the variables the DOCX and HTML templates share.

Wording that needs arithmetic or grammar (VAT, amounts in words, who is "именуемое")
is composed here once, so the Word and the PDF versions of a document say the same.
Anything a person may want to reword stays in the templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from clientops_shared.types import quantize_money
from contracts.documents.context import (
    SERVICE_KINDS,
    AmendmentKind,
    BankDetails,
    CompanyCard,
    ContractFacts,
    ContractKind,
    DocumentContext,
    HandoverDirection,
    PartyDetails,
    PaymentForm,
    Signatory,
    VatMode,
)
from contracts.documents.declension import in_person_of
from contracts.documents.words import (
    amount_in_words,
    calendar_days,
    date_long,
    date_short,
    format_amount,
    format_percent,
    format_phone,
    format_rubles,
    within_working_days,
)


@dataclass(frozen=True, slots=True)
class Role:
    """What a contract calls a party: «Исполнитель», and «Исполнителя» after "нахождения"."""

    name: str
    genitive: str


CONTRACTOR = Role("Исполнитель", "Исполнителя")
CUSTOMER = Role("Заказчик", "Заказчика")
SERVICE_ROLES = (CONTRACTOR, CUSTOMER)
ROLES: dict[ContractKind, tuple[Role, Role]] = {
    # (ours, the client's): in rent the roles reverse, the client is the site owner we pay
    ContractKind.SUBSCRIPTION: SERVICE_ROLES,
    ContractKind.PILOT: SERVICE_ROLES,
    ContractKind.MAINTENANCE: SERVICE_ROLES,
    ContractKind.SUPPLY: (Role("Поставщик", "Поставщика"), Role("Покупатель", "Покупателя")),
    ContractKind.RENT: (Role("Арендатор", "Арендатора"), Role("Арендодатель", "Арендодателя")),
}

CONTRACT_SUBJECTS = {
    ContractKind.SUBSCRIPTION: "на абонентское обслуживание оборудования",
    ContractKind.PILOT: "на проведение пилотного проекта",
    ContractKind.MAINTENANCE: "на сервисное обслуживание оборудования",
    ContractKind.SUPPLY: "на поставку оборудования",
    ContractKind.RENT: "аренды места для размещения платёжного терминала",
}

SERVICE_DESCRIPTIONS = {
    ContractKind.SUBSCRIPTION: (
        "услуги по предоставлению, установке и абонентскому обслуживанию оборудования "
        "(терминалов) на объекте Заказчика"
    ),
    ContractKind.PILOT: (
        "услуги по установке и обслуживанию оборудования (терминалов) на объекте Заказчика "
        "в рамках пилотного проекта"
    ),
    ContractKind.MAINTENANCE: (
        "услуги по регламентному и аварийному сервисному обслуживанию оборудования "
        "(шлагбаумов, турникетов, терминалов) на объекте Заказчика"
    ),
}

OUR_EQUIPMENT = (
    "Оборудование передаётся Заказчику по акту приёма-передачи и остаётся собственностью "
    "Исполнителя."
)
EQUIPMENT_TERMS = {
    ContractKind.SUBSCRIPTION: OUR_EQUIPMENT,
    ContractKind.PILOT: OUR_EQUIPMENT,
    ContractKind.MAINTENANCE: (
        "Обслуживаемое оборудование принадлежит Заказчику; его состав фиксируется "
        "в акте приёма-передачи на обслуживание."
    ),
}

# how the client pays us for a service; supply and rent word their payment in the template
PAYMENT_TERMS = {
    PaymentForm.CASHLESS: (
        "в безналичном порядке путём перечисления денежных средств на расчётный счёт "
        "Исполнителя на основании счёта, выставляемого Исполнителем 15-го числа текущего "
        "месяца, в течение 5 (пяти) банковских дней с даты его выставления"
    ),
    PaymentForm.CASH: (
        "наличными денежными средствами ежемесячно, не позднее 25-го числа текущего "
        "месяца, с выдачей Заказчику документа, подтверждающего оплату"
    ),
}


@dataclass(frozen=True, slots=True)
class FeeView:
    """A monthly fee with its VAT wording, ready to print."""

    amount: Decimal
    figures: str  # "12 500,00"
    words: str  # "Двенадцать тысяч пятьсот рублей 00 копеек"
    vat_clause: str  # "в т.ч. НДС 22 % — 2 254,10 (...)"
    total: Decimal  # what the client pays, VAT included
    sentence: str  # figures, words and VAT clause together: "... в месяц, в т.ч. НДС ..."
    once: str  # the same for a one-off price (supply), without "в месяц"


def vat_amount(amount: Decimal, mode: VatMode, rate: Decimal) -> Decimal | None:
    """VAT in a fee: extracted when included (rate / (100 + rate)), added when on top."""
    if mode is VatMode.INCLUSIVE:
        return quantize_money(amount * rate / (100 + rate))
    if mode is VatMode.ON_TOP:
        return quantize_money(amount * rate / 100)
    return None


def fee_view(amount: Decimal, mode: VatMode, rate: Decimal) -> FeeView:
    vat = vat_amount(amount, mode, rate)
    percent = format_percent(rate)
    if mode is VatMode.INCLUSIVE:
        assert vat is not None
        total = amount
        clause = f"в т.ч. НДС {percent} — {format_rubles(vat)}"
    elif mode is VatMode.ON_TOP:
        assert vat is not None
        total = amount + vat
        clause = (
            f"НДС сверху: кроме того НДС {percent} — {format_rubles(vat)}, "
            f"итого с НДС {format_rubles(total)}"
        )
    else:
        total = amount
        clause = "НДС не облагается"
    return FeeView(
        amount=amount,
        figures=format_amount(amount),
        words=amount_in_words(amount),
        vat_clause=clause,
        total=total,
        sentence=f"{format_rubles(amount)} в месяц, {clause}",
        once=f"{format_rubles(amount)}, {clause}",
    )


@dataclass(frozen=True, slots=True)
class PartyView:
    """A party as the preamble and the signature block print it."""

    role: str
    role_genitive: str  # "по месту нахождения Исполнителя"
    name: str
    preamble: str  # "ООО «Ромашка», именуемое в дальнейшем «Заказчик», в лице ..."
    requisites: tuple[str, ...]  # lines under the name in the signature block
    position: str
    short_name: str


def _acting(signatory: Signatory) -> str:
    return "действующей" if signatory.female else "действующего"


def _bank_lines(bank: BankDetails) -> tuple[str, ...]:
    return (
        f"р/с {bank.account} в {bank.bank_name}",
        f"к/с {bank.corr_account}, БИК {bank.bik}",
    )


def _organisation_preamble(name: str, role: str, signatory: Signatory) -> str:
    # what a person wrote wins; else the dictionary declines position and name
    person = signatory.in_person_of or in_person_of(signatory.position, signatory.full_name,
                                                    signatory.female)
    return (
        f"{name}, именуемое в дальнейшем «{role}», в лице {person}, "
        f"{_acting(signatory)} на основании {signatory.basis}"
    )


def company_party(company: CompanyCard, role: Role = CONTRACTOR) -> PartyView:
    lines = (
        f"ИНН {company.inn}, КПП {company.kpp}",
        f"ОГРН {company.ogrn}",
        f"Адрес: {company.address}",
        *_bank_lines(company.bank),
    )
    return PartyView(
        role=role.name,
        role_genitive=role.genitive,
        name=company.short_name,
        preamble=_organisation_preamble(company.name, role.name, company.director),
        requisites=lines,
        position=company.director.position,
        short_name=company.director.short_name,
    )


def client_party(client: PartyDetails, role: Role = CUSTOMER) -> PartyView:
    signatory = client.signatory
    if client.is_sole_trader:
        # a sole trader signs in person: no "в лице", and the participle follows the gender
        named = "именуемая" if signatory.female else "именуемый"
        acting = "действующая" if signatory.female else "действующий"
        preamble = (
            f"{client.name}, {named} в дальнейшем «{role.name}», "
            f"{acting} на основании {signatory.basis}"
        )
        ids = f"ИНН {client.inn}"
        ogrn_label = "ОГРНИП"
    else:
        preamble = _organisation_preamble(client.name, role.name, signatory)
        ids = f"ИНН {client.inn}, КПП {client.kpp}"
        ogrn_label = "ОГРН"
    lines = [ids]
    if client.ogrn:
        lines.append(f"{ogrn_label} {client.ogrn}")
    lines.append(f"Адрес: {client.address}")
    if client.bank:
        lines.extend(_bank_lines(client.bank))
    if client.phone:
        lines.append(f"Тел.: {format_phone(client.phone)}")
    if client.email:
        lines.append(f"E-mail: {client.email}")
    return PartyView(
        role=role.name,
        role_genitive=role.genitive,
        name=client.name,
        preamble=preamble,
        requisites=tuple(lines),
        position=signatory.position,
        short_name=signatory.short_name,
    )


def _document_date(ctx: DocumentContext) -> date | None:
    """The date a document bears: the most specific event the (trimmed) context holds."""
    if ctx.handover is not None:
        return ctx.handover.handed_on
    if ctx.amendment is not None:
        return ctx.amendment.signed_on
    if ctx.contract is not None:
        return ctx.contract.signed_on
    return None


def _contract_views(contract: ContractFacts, ctx: DocumentContext) -> dict[str, Any]:
    fee = fee_view(contract.monthly_fee, contract.vat_mode, contract.vat_rate)
    amendment = ctx.amendment
    if amendment is not None and amendment.new_fee is not None:
        price = fee_view(amendment.new_fee, contract.vat_mode, contract.vat_rate)
        price_from = amendment.effective_on
    else:
        price, price_from = fee, contract.starts_on
    return {
        "fee": fee,
        "price": price,  # the fee in force after the amendment, if it changes the fee
        "price_from": price_from,
        "subject": CONTRACT_SUBJECTS[contract.kind],
        # service kinds only (None for supply and rent, whose wording is in the template)
        "service": SERVICE_DESCRIPTIONS.get(contract.kind),
        "equipment_terms": EQUIPMENT_TERMS.get(contract.kind),
        "payment_terms": (
            PAYMENT_TERMS[contract.payment_form] if contract.kind in SERVICE_KINDS else None
        ),
        "contract_ref": f"№ {contract.number} от {date_long(contract.signed_on)}",
    }


# what the taker receives the equipment for, and where: (installation, removal) by kind
HANDOVER_PURPOSES = {
    **{
        kind: ("для установки и эксплуатации на объекте", "в связи со снятием с объекта")
        for kind in SERVICE_KINDS
    },
    # rent: our terminal is placed at the site owner's site and taken back on removal
    ContractKind.RENT: ("для размещения и эксплуатации на объекте", "в связи со снятием с объекта"),
    # supply: the buyer receives the equipment as its owner (a supply act is never a removal)
    ContractKind.SUPPLY: ("в собственность на объекте", "в связи с возвратом с объекта"),
}


def _handover_views(ctx: DocumentContext, ours: PartyView, theirs: PartyView) -> dict[str, Any]:
    handover, contract = ctx.handover, ctx.contract
    assert handover is not None and contract is not None
    to_client = handover.direction is HandoverDirection.TO_CLIENT
    priced = [line.total for line in handover.lines if line.total is not None]
    value = sum(priced, Decimal("0")) if priced else None
    installation, removal = HANDOVER_PURPOSES[contract.kind]
    if value is None:
        worth = None
    elif contract.kind is ContractKind.SUPPLY:
        # what the buyer pays for: the price with the contract's VAT wording
        worth = fee_view(value, contract.vat_mode, contract.vat_rate).once
    else:
        worth = format_rubles(value)  # appraised value of our equipment: liability for loss
    return {
        "giver": ours if to_client else theirs,
        "taker": theirs if to_client else ours,
        "installing": to_client,
        "purpose": installation if to_client else removal,
        "total_qty": sum(line.qty for line in handover.lines),
        "equipment_value": worth,
    }


def template_variables(title: str, ctx: DocumentContext) -> dict[str, Any]:
    """Variables for a template titled ``title``; parts the context lacks are None.

    The caller passes only the parts the template uses (render drops the rest).
    """
    our_role, their_role = ROLES[ctx.contract.kind] if ctx.contract is not None else SERVICE_ROLES
    ours = company_party(ctx.company, our_role)
    theirs = client_party(ctx.client, their_role) if ctx.client is not None else None
    dated = _document_date(ctx)
    variables: dict[str, Any] = {
        "title": title,
        "company": ctx.company,
        "client": ctx.client,
        "contract": ctx.contract,
        "amendment": ctx.amendment,
        "handover": ctx.handover,
        "is_fee_change": ctx.amendment is not None
        and ctx.amendment.kind is AmendmentKind.FEE_CHANGE,
        "ours": ours,
        "theirs": theirs,
        "place": f"г. {ctx.contract.city}" if ctx.contract is not None else None,
        "dated": date_long(dated) if dated is not None else None,
    }
    if ctx.contract is not None:
        variables.update(_contract_views(ctx.contract, ctx))
    if ctx.handover is not None and ctx.contract is not None and theirs is not None:
        variables.update(_handover_views(ctx, ours, theirs))
    return variables


FILTERS = {
    "date_long": date_long,
    "date_short": date_short,
    "money": format_amount,
    "in_words": amount_in_words,
    "rubles": format_rubles,
    "phone": format_phone,
    "calendar_days": calendar_days,  # за 45 (сорок пять) календарных дней
    "within_working_days": within_working_days,  # в течение 1 (одного) рабочего дня
}
"""Jinja filters both template kinds may use: {{ contract.ends_on|date_long }}."""
