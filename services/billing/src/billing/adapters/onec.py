"""Export to 1C:Enterprise accounting (seed 004 §4) behind a port.

Format: an EnterpriseData ("универсальный формат обмена", namespace
``http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.8``) message carrying the objects 1C needs to
post our invoices: ``Справочник.Контрагенты`` (clients: name, INN, KPP),
``Справочник.Договоры`` (contracts with buyers) and ``Документ.СчетНаОплатуПокупателю``
(invoices with their service lines, VAT rate and VAT per line). Objects are keyed by our UUIDs
(``Ссылка``), so a re-export updates the same objects in 1C instead of duplicating them.
We chose the file message over 1C's OData interface because the target 1C configurations
(Бухгалтерия предприятия 3.0) import it with the standard "Синхронизация данных через
универсальный формат" over an exchange folder, with no web publication of the 1C base.

Transport (the port): ``FolderExchange`` drops ``Message_ClientOps_BP_<n>.xml`` atomically into
the exchange folder 1C reads; ``FakeOneC`` keeps messages in memory for development and tests.
"""

from __future__ import annotations

import asyncio
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

MSG_NS = "http://www.1c.ru/SSL/Exchange/Message"
ED_NS = "http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.8"
FORMAT_VERSION = "1.8"
RUB = ("643", "RUB", "Российский рубль")


@dataclass(frozen=True)
class Organization:
    name: str
    inn: str
    kpp: str


@dataclass(frozen=True)
class ClientRecord:
    id: str
    name: str
    inn: str


@dataclass(frozen=True)
class ContractRecord:
    id: str
    number: str
    client_id: str
    starts_on: date


@dataclass(frozen=True)
class LineRecord:
    description: str
    amount: Decimal
    vat_rate: Decimal | None
    vat: Decimal
    total: Decimal


@dataclass(frozen=True)
class InvoiceRecord:
    id: str
    number: str
    issued_on: date
    client_id: str
    contract_id: str
    vat_mode: str
    total: Decimal
    lines: Sequence[LineRecord]


def _vat_rate(rate: Decimal | None) -> str:
    """EnterpriseData's VAT rate enumeration: «НДС22», «НДС20», «БезНДС»."""
    return "БезНДС" if rate is None else f"НДС{rate.normalize():f}"


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _org(parent: ET.Element, org: Organization) -> None:
    node = _sub(parent, "Организация")
    _sub(node, "Наименование", org.name)
    _sub(node, "НаименованиеСокращенное", org.name)
    _sub(node, "ИНН", org.inn)
    _sub(node, "КПП", org.kpp)


def _counterparty(parent: ET.Element, client: ClientRecord) -> None:
    node = _sub(parent, "Контрагент")
    _sub(node, "Ссылка", client.id)
    _sub(node, "Наименование", client.name)
    _sub(node, "НаименованиеПолное", client.name)
    _sub(node, "ИНН", client.inn)
    _sub(node, "ЮридическоеФизическоеЛицо",
         "ФизическоеЛицо" if len(client.inn) == 12 else "ЮридическоеЛицо")


def _currency(parent: ET.Element, tag: str) -> None:
    node = _sub(parent, tag)
    _sub(node, "Код", RUB[0])
    _sub(node, "Наименование", RUB[1])


def _contract_ref(parent: ET.Element, contract: ContractRecord, client: ClientRecord,
                  org: Organization) -> None:
    _sub(parent, "Ссылка", contract.id)
    _sub(parent, "ВидДоговора", "СПокупателем")
    _org(parent, org)
    _counterparty(parent, client)
    _sub(parent, "Наименование", f"Договор № {contract.number} от {contract.starts_on:%d.%m.%Y}")
    _sub(parent, "Номер", contract.number)
    _sub(parent, "Дата", f"{contract.starts_on.isoformat()}T00:00:00")


def enterprise_data(org: Organization, clients: Iterable[ClientRecord],
                    contracts: Iterable[ContractRecord], invoices: Iterable[InvoiceRecord], *,
                    message_no: int, created_at: datetime, sender: str = "ClientOps",
                    receiver: str = "BP") -> bytes:
    """The EnterpriseData message: clients, contracts, then the invoices that refer to them."""
    ET.register_namespace("msg", MSG_NS)
    message = ET.Element("Message")
    header = _sub(message, f"{{{MSG_NS}}}Header")
    _sub(header, f"{{{MSG_NS}}}Format", f"http://v8.1c.ru/edi/edi_stnd/EnterpriseData/"
                                        f"{FORMAT_VERSION}")
    _sub(header, f"{{{MSG_NS}}}CreationDate", created_at.replace(microsecond=0).isoformat())
    confirmation = _sub(header, f"{{{MSG_NS}}}Confirmation")
    _sub(confirmation, f"{{{MSG_NS}}}ExchangePlan",
         "СинхронизацияДанныхЧерезУниверсальныйФормат")
    _sub(confirmation, f"{{{MSG_NS}}}To", receiver)
    _sub(confirmation, f"{{{MSG_NS}}}From", sender)
    _sub(confirmation, f"{{{MSG_NS}}}MessageNo", str(message_no))
    _sub(confirmation, f"{{{MSG_NS}}}ReceivedNo", "0")
    _sub(header, f"{{{MSG_NS}}}AvailableVersion", FORMAT_VERSION)
    body = _sub(message, "Body", None)
    body.set("xmlns", ED_NS)

    by_client = {c.id: c for c in clients}
    by_contract = {c.id: c for c in contracts}
    for client in by_client.values():
        node = _sub(body, "Справочник.Контрагенты")
        keys = _sub(node, "КлючевыеСвойства")
        _sub(keys, "Ссылка", client.id)
        _sub(keys, "Наименование", client.name)
        _sub(keys, "НаименованиеПолное", client.name)
        _sub(keys, "ИНН", client.inn)
        _sub(keys, "ЮридическоеФизическоеЛицо",
             "ФизическоеЛицо" if len(client.inn) == 12 else "ЮридическоеЛицо")
    for contract in by_contract.values():
        node = _sub(body, "Справочник.Договоры")
        keys = _sub(node, "КлючевыеСвойства")
        _contract_ref(keys, contract, by_client[contract.client_id], org)
        _currency(node, "ВалютаВзаиморасчетов")
        _sub(node, "РасчетыВУсловныхЕдиницах", "false")
    for invoice in invoices:
        node = _sub(body, "Документ.СчетНаОплатуПокупателю")
        keys = _sub(node, "КлючевыеСвойства")
        _sub(keys, "Ссылка", invoice.id)
        _sub(keys, "Дата", f"{invoice.issued_on.isoformat()}T00:00:00")
        _sub(keys, "Номер", invoice.number)
        _org(keys, org)
        _currency(node, "Валюта")
        _sub(node, "Сумма", _money(invoice.total))
        _counterparty(node, by_client[invoice.client_id])
        settlement = _sub(node, "ДанныеВзаиморасчетов")
        _contract_ref(_sub(settlement, "Договор"), by_contract[invoice.contract_id],
                      by_client[invoice.client_id], org)
        _currency(settlement, "ВалютаВзаиморасчетов")
        _sub(settlement, "КурсВзаиморасчетов", "1")
        _sub(settlement, "КратностьВзаиморасчетов", "1")
        _sub(node, "СуммаВключаетНДС", "true" if invoice.vat_mode == "inclusive" else "false")
        services = _sub(node, "Услуги")
        for line in invoice.lines:
            row = _sub(services, "Строка")
            _sub(row, "Содержание", line.description)
            _sub(row, "Количество", "1")
            _sub(row, "Цена", _money(line.amount))
            _sub(row, "Сумма", _money(line.total if invoice.vat_mode == "inclusive"
                                      else line.amount))
            _sub(row, "СтавкаНДС", _vat_rate(line.vat_rate))
            _sub(row, "СуммаНДС", _money(line.vat))
    ET.indent(message)
    return ET.tostring(message, encoding="utf-8", xml_declaration=True)


class OneCExchange(Protocol):
    async def deliver(self, name: str, body: bytes) -> None:
        """Hand a message to 1C; raises OSError (or a subclass) when it cannot."""
        ...


class FolderExchange:
    """The exchange folder 1C's data synchronisation reads messages from."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    async def deliver(self, name: str, body: bytes) -> None:
        await asyncio.to_thread(self._write, name, body)

    def _write(self, name: str, body: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f".{name}.part"
        partial.write_bytes(body)
        os.replace(partial, self.directory / name)  # 1C never sees half a file


@dataclass
class FakeOneC:
    messages: dict[str, bytes] = field(default_factory=dict)

    async def deliver(self, name: str, body: bytes) -> None:
        self.messages[name] = body
