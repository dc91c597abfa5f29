"""Adapters without servers: money in words, exact JSON numbers, the 1C message, bulk SQL."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from billing.adapters import onec
from billing.adapters.invoice_pdf import amount_in_words, rubles
from billing.adapters.orm import invoice_line
from billing.adapters.planfact import (
    FakePlanFact,
    Outcome,
    PlanFactClient,
    PlanFactError,
    dumps_exact,
)
from clientops_shared.bulk import _statement

pytestmark = pytest.mark.unit

D = Decimal
ED = "{http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.8}"


def test_amounts_as_russian_documents_write_them() -> None:
    assert rubles(D("15250.00")) == "15 250,00"
    assert rubles(D("1234567.8")) == "1 234 567,80"
    assert rubles(D("-15250.00")) == "-15 250,00"
    assert amount_in_words(D("15250.00")) == "Пятнадцать тысяч двести пятьдесят рублей 00 копеек"
    assert amount_in_words(D("10822.58")) == "Десять тысяч восемьсот двадцать два рубля 58 копеек"
    assert amount_in_words(D("1.01")) == "Один рубль 01 копейка"


def test_planfact_json_carries_exact_numbers() -> None:
    body = dumps_exact({"items": [{"value": D("12000.10")}], "n": 1, "s": "текст"})
    assert body.decode() == '{"items": [{"value": 12000.10}], "n": 1, "s": "текст"}'
    assert json.loads(body, parse_float=D)["items"][0]["value"] == D("12000.10")


OUTCOME = Outcome(external_id="p-1", operation_date=date(2026, 12, 25), amount=D("12000.00"),
                  committed=False, counterparty="ООО Поставщик", counterparty_inn="7702070139",
                  comment="Счёт № 1", category="equipment")


async def test_planfact_client_maps_answers_and_failures() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/outcome"):
            return httpx.Response(200, json={"isSuccess": True, "data": {"operationId": 42}})
        return httpx.Response(200, json={"isSuccess": False, "errorMessage": "нет доступа"})

    client = PlanFactClient("http://planfact.local", "secret",
                            category_ids={"equipment": "c-9"},
                            transport=httpx.MockTransport(answer))
    try:
        assert await client.save_outcome(OUTCOME, None) == "42"
        sent = json.loads(seen[0].content)
        assert seen[0].headers["x-apikey"] == "secret"
        assert sent["items"] == [{"calculationDate": "2026-12-25", "value": 12000.0,
                                  "operationCategoryId": "c-9"}]
        with pytest.raises(PlanFactError, match="нет доступа"):
            await client.save_outcome(OUTCOME, "42")
    finally:
        await client.aclose()
    fake = FakePlanFact()
    op = await fake.save_outcome(OUTCOME, None)
    await fake.delete_outcome(op)
    assert fake.operations == {}


def test_enterprise_data_message() -> None:
    org = onec.Organization('ООО "КЛИЕНТОПС"', "7701000001", "770101001")
    client = onec.ClientRecord("c-1", "ПАО СБЕРБАНК", "7707083893")
    person = onec.ClientRecord("c-2", "ИП Петров", "772012345670")
    contract = onec.ContractRecord("k-1", "2026-0001", "c-1", date(2026, 12, 1))
    line = onec.LineRecord("Абонентская плата за декабрь 2026 г.", D("12500.00"), D("22.00"),
                           D("2750.00"), D("15250.00"))
    inv = onec.InvoiceRecord("i-1", "СЧ-2026-12-0001", date(2026, 12, 15), "c-1", "k-1",
                             "on_top", D("15250.00"), [line])
    body = onec.enterprise_data(org, [client, person], [contract], [inv], message_no=7,
                                created_at=datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(body)
    ns = "{http://www.1c.ru/SSL/Exchange/Message}"
    assert root.findtext(f"{ns}Header/{ns}Confirmation/{ns}MessageNo") == "7"
    assert root.findtext(f"{ns}Header/{ns}Format") == (
        "http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.8")
    kinds = [p.findtext(f"{ED}КлючевыеСвойства/{ED}ЮридическоеФизическоеЛицо")
             for p in root.iter(f"{ED}Справочник.Контрагенты")]
    assert kinds == ["ЮридическоеЛицо", "ФизическоеЛицо"]
    doc = next(root.iter(f"{ED}Документ.СчетНаОплатуПокупателю"))
    assert doc.findtext(f"{ED}КлючевыеСвойства/{ED}Дата") == "2026-12-15T00:00:00"
    assert doc.findtext(f"{ED}СуммаВключаетНДС") == "false"
    row = doc.find(f"{ED}Услуги/{ED}Строка")
    assert row is not None
    assert [row.findtext(f"{ED}{k}") for k in ("Цена", "Сумма", "СтавкаНДС", "СуммаНДС")] == [
        "12500.00", "12500.00", "НДС22", "2750.00"]


def test_bulk_insert_casts_each_column_to_its_array_type() -> None:
    sql = str(_statement(invoice_line, ["invoice_id", "amount", "vat_rate", "description"],
                         "RETURNING invoice_id"))
    assert sql == ('INSERT INTO "invoice_line" ("invoice_id", "amount", "vat_rate", '
                   '"description") SELECT * FROM unnest(CAST(:invoice_id AS UUID[]), '
                   "CAST(:amount AS NUMERIC(14, 2)[]), CAST(:vat_rate AS NUMERIC(5, 2)[]), "
                   "CAST(:description AS TEXT[])) RETURNING invoice_id")
