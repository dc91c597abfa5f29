"""Documents over HTTP: generated DOCX/PDF from the domain, scans stored behind the port."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from typing import Any

import docx
import pytest

pytestmark = pytest.mark.integration

FEE_WORDS = "Двенадцать тысяч пятьсот рублей 00 копеек"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return " ".join(" ".join(parts).split())


async def _printable_contract(desk: Any, **terms: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    client = await desk.full_client()
    site = await desk.site(client["id"])
    contract = await desk.contract(client["id"], site_id=site["id"], vat_mode="inclusive",
                                   **terms)
    await desk.sign(contract["id"], "2026-11-25")
    return client, await desk.contract_state(contract["id"])


async def test_contract_docx_and_pdf_say_client_number_and_amount_in_words(
        desk: Any, pdf_to_text: Any) -> None:
    client, contract = await _printable_contract(desk)
    r = await desk.get(f"/api/contracts/{contract['id']}/documents/contract",
                       params={"format": "docx"})
    assert r.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert f"contract-{contract['number']}.docx" in r.headers["content-disposition"]
    text = docx_text(r.content)
    for phrase in (client["name"], f"ДОГОВОР № {contract['number']}", FEE_WORDS,
                   "«25» ноября 2026 г.", "г. Москва, Ленинградский пр-т, д. 10",
                   "Количество точек проезда на Объекте: 2",
                   "в лице Директора Смирновой Анны Петровны",
                   "р/с 40702810600000004567 в АО «ТБанк»"):
        assert " ".join(phrase.split()) in text.replace("\u00a0", " "), phrase

    r = await desk.get(f"/api/contracts/{contract['id']}/documents/contract",
                       params={"format": "pdf"})
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF-")
    text = pdf_to_text(r.content).replace("\u00a0", " ")
    for phrase in (client["name"], contract["number"], FEE_WORDS, "ДОГОВОР"):
        assert phrase in text, phrase


async def test_amendment_documents_print_the_change(desk: Any, pdf_to_text: Any) -> None:
    client, contract = await _printable_contract(desk, ends_on="2027-11-30")
    cid = contract["id"]
    desk.today = date(2027, 2, 1)
    fee = (await desk.post(f"/api/contracts/{cid}/fee-change",
                           {"new_fee": "15000.00", "notice_on": "2027-02-01"},
                           expect=201)).json()
    r = await desk.get(f"/api/amendments/{fee['id']}/document", params={"format": "docx"})
    text = docx_text(r.content).replace("\u00a0", " ")
    assert "ПРОТОКОЛ СОГЛАСОВАНИЯ ЦЕНЫ" in text and client["name"] in text
    assert "Пятнадцать тысяч рублей 00 копеек" in text and contract["number"] in text

    extension = (await desk.post(f"/api/contracts/{cid}/extension",
                                 {"new_ends_on": "2028-11-30"}, expect=201)).json()
    r = await desk.get(f"/api/amendments/{extension['id']}/document",
                       params={"format": "pdf"})
    text = pdf_to_text(r.content).replace("\u00a0", " ")
    assert "ДОПОЛНИТЕЛЬНОЕ СОГЛАШЕНИЕ № 2" in text and "«30» ноября 2028 г." in text

    desk.today = date(2027, 6, 1)
    termination = (await desk.post(f"/api/contracts/{cid}/terminate",
                                   {"effective_on": "2027-07-01"}, expect=201)).json()
    r = await desk.get(f"/api/amendments/{termination['id']}/document")
    text = docx_text(r.content).replace("\u00a0", " ")
    assert "о расторжении договора" in text and "«01» июля 2027 г." in text


async def test_acceptance_act_and_company_card(desk: Any, pdf_to_text: Any) -> None:
    client, contract = await _printable_contract(desk)
    r = await desk.post(f"/api/contracts/{contract['id']}/documents/acceptance-act",
                        {"number": "А-17", "handed_on": "2026-12-03",
                         "lines": [{"name": "Терминал оплаты парковки", "serial": "TP-1",
                                    "unit_price": "150000.00"}]}, expect=200)
    text = docx_text(r.content).replace("\u00a0", " ")
    assert "АКТ ПРИЁМА-ПЕРЕДАЧИ ОБОРУДОВАНИЯ № А-17" in text and "TP-1" in text
    assert "Сто пятьдесят тысяч рублей 00 копеек" in text and client["name"] in text

    r = await desk.get("/api/documents/company-card")
    text = pdf_to_text(r.content)
    assert "КАРТОЧКА ПРЕДПРИЯТИЯ" in text and "7701000001" in text


async def test_documents_need_a_complete_client_card_and_a_site(desk: Any) -> None:
    client = await desk.client()
    contract = await desk.contract(client["id"])
    r = await desk.get(f"/api/contracts/{contract['id']}/documents/contract", expect=422)
    assert r.json()["errors"][0]["field"] == "client.legal_address"
    assert {e["field"] for e in r.json()["errors"]} == {"client.legal_address",
                                                         "client.signatory"}
    full = await desk.full_client()
    bare = await desk.contract(full["id"])
    r = await desk.get(f"/api/contracts/{bare['id']}/documents/contract", expect=422)
    assert r.json()["errors"][0]["field"] == "site_id"
    # a supply act prices what the buyer receives; a rent act names each terminal's serial
    supply = await desk.contract(full["id"], kind="supply",
                                 site_id=(await desk.site(full["id"]))["id"])
    r = await desk.post(f"/api/contracts/{supply['id']}/documents/acceptance-act",
                        {"number": "А-1", "handed_on": "2026-12-03",
                         "lines": [{"name": "Терминал"}]}, expect=422)
    assert r.json()["errors"][0]["field"] == "lines.0.unit_price"
    rent = await desk.contract(full["id"], kind="rent", payment_form="cash",
                               site_id=(await desk.site(full["id"], access_points=0))["id"])
    r = await desk.post(f"/api/contracts/{rent['id']}/documents/acceptance-act",
                        {"number": "Т-1", "handed_on": "2026-12-03",
                         "lines": [{"name": "Платёжный терминал", "serial": "PT-1"},
                                   {"name": "Платёжный терминал"}]}, expect=422)
    assert [e["field"] for e in r.json()["errors"]] == ["lines.1.serial"]
    await desk.get(f"/api/contracts/{supply['id']}/documents/price_protocol", expect=200)
    other = desk.auth("manager2", "manager")
    await desk.get(f"/api/contracts/{contract['id']}/documents/contract", as_=other,
                   expect=403)


SITE = "г. Москва, Ленинградский пр-т, д. 10"
RENT_SITE = "г. Москва, ул. Тверская, д. 7, ТЦ «Галерея», 1 этаж"

# kind -> (contract terms, what its contract says besides client, number and amount in words)
KINDS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "subscription": ({}, (
        "на абонентское обслуживание оборудования", "именуемое в дальнейшем «Исполнитель»",
        f"Абонентская плата составляет 12 500,00 ({FEE_WORDS}) в месяц", SITE,
        "Количество точек проезда на Объекте: 2",
        # no term of its own: the company's standard one
        "по аварийной заявке Заказчика в течение 2 (двух) рабочих дней",
        "не менее чем за 30 (тридцать) календарных дней")),
    "maintenance": ({"notice_days": 45, "emergency_sla_days": 1}, (
        "на сервисное обслуживание оборудования",
        "Обслуживаемое оборудование принадлежит Заказчику",
        f"Абонентская плата составляет 12 500,00 ({FEE_WORDS}) в месяц", SITE,
        "по аварийной заявке Заказчика в течение 1 (одного) рабочего дня",
        "письменно уведомив Заказчика не менее чем за 45 (сорок пять) календарных дней",
        "письменно уведомив другую Сторону не менее чем за 45 (сорок пять) календарных дней")),
    "pilot": ({"notice_days": 14}, (
        "на проведение пилотного проекта", "в рамках пилотного проекта",
        f"Абонентская плата составляет 12 500,00 ({FEE_WORDS}) в месяц", SITE,
        "не менее чем за 14 (четырнадцать) календарных дней")),
    "supply": ({"monthly_fee": "350000.00"}, (
        "на поставку оборудования", "именуемое в дальнейшем «Поставщик»",
        "именуемое в дальнейшем «Покупатель»",
        "Поставщик обязуется передать в собственность Покупателя оборудование",
        f"Оборудование поставляется по адресу: {SITE}",
        "Цена Договора составляет 350 000,00 (Триста пятьдесят тысяч рублей 00 копеек), "
        "в т.ч. НДС 22 %",
        "Право собственности на Оборудование переходит к Покупателю")),
    "rent": ({"monthly_fee": "7000.00", "vat_mode": "exempt", "payment_form": "cash",
              "notice_days": 60, "bill_from_install": True}, (
        "аренды места для размещения платёжного терминала",
        "именуемое в дальнейшем «Арендатор»", "именуемое в дальнейшем «Арендодатель»",
        f"на объекте по адресу: {RENT_SITE}",
        "Арендатор уплачивает Арендодателю арендную плату в размере 7 000,00 "
        "(Семь тысяч рублей 00 копеек) в месяц, НДС не облагается",
        "начисляется с даты установки Оборудования на Объекте",
        "наличными денежными средствами через уполномоченного представителя Арендатора",
        "не менее чем за 60 (шестьдесят) календарных дней")),
}
AMOUNTS = {"supply": "Триста пятьдесят тысяч рублей 00 копеек",
           "rent": "Семь тысяч рублей 00 копеек"}
# the service wording must not leak into supply and rent, nor theirs into the services
FOREIGN = {"supply": ("Исполнитель", "Заказчик", "Абонентская плата", "в месяц"),
           "rent": ("Исполнитель", "Заказчик", "Абонентская плата", "расчётный счёт Арендодателя")}


@pytest.mark.parametrize("kind", list(KINDS))
async def test_contract_of_every_kind_over_http(desk: Any, pdf_to_text: Any, kind: str) -> None:
    terms, phrases = KINDS[kind]
    client = await desk.full_client()
    site = (await desk.site(client["id"], address=RENT_SITE, access_points=0) if kind == "rent"
            else await desk.site(client["id"]))
    body = {"kind": kind, "ends_on": "2027-11-30", "site_id": site["id"], "vat_mode": "inclusive",
            **terms}
    contract = await desk.contract(client["id"], **body)
    await desk.sign(contract["id"], "2026-11-25")
    contract = await desk.contract_state(contract["id"])
    expected = (client["name"], f"ДОГОВОР № {contract['number']}",
                AMOUNTS.get(kind, FEE_WORDS), "«25» ноября 2026 г.", *phrases)
    path = f"/api/contracts/{contract['id']}/documents/contract"

    r = await desk.get(path, params={"format": "docx"})
    assert f"contract-{contract['number']}.docx" in r.headers["content-disposition"]
    docx_says = docx_text(r.content).replace("\u00a0", " ")
    r = await desk.get(path, params={"format": "pdf"})
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF-")
    pdf_says = pdf_to_text(r.content)
    for text in (docx_says, pdf_says):
        missing = [p for p in expected if " ".join(p.split()) not in text]
        assert not missing, (kind, missing, text)
        leaked = [p for p in FOREIGN.get(kind, ("Арендатор", "Поставщик")) if p in text]
        assert not leaked, (kind, leaked)


# kind -> (contract terms, the act's body, its party names, the amounts in words of the
# price protocol and the act, what the act says)
RENT_AND_SUPPLY: dict[str, tuple[dict[str, Any], dict[str, Any], tuple[str, str],
                                 tuple[str, str | None], tuple[str, ...]]] = {
    "rent": (
        {"monthly_fee": "7000.00", "vat_mode": "exempt", "payment_form": "cash",
         "bill_from_install": True},
        {"number": "Т-5", "handed_on": "2026-12-03", "work_order_no": "З-2026/118",
         "lines": [{"name": "Платёжный терминал", "serial": "PT-20417"}]},
        ("Арендатор", "Арендодатель"),
        ("Семь тысяч рублей 00 копеек", None),
        ("АКТ ПРИЁМА-ПЕРЕДАЧИ ТЕРМИНАЛА № Т-5", "PT-20417",
         "Арендатор передал, а Арендодатель принял для размещения и эксплуатации на объекте "
         f"по адресу: {RENT_SITE}",
         "Дата установки Оборудования на Объекте: «03» декабря 2026 г.",
         "Основание: заявка на проведение работ № З-2026/118.")),
    "supply": (
        {"monthly_fee": "350000.00", "vat_mode": "inclusive"},
        {"number": "А-3", "handed_on": "2026-12-03",
         "lines": [{"name": "Терминал оплаты парковки", "serial": "TP-1",
                    "unit_price": "350000.00"}]},
        ("Поставщик", "Покупатель"),
        ("Триста пятьдесят тысяч рублей 00 копеек", "Триста пятьдесят тысяч рублей 00 копеек"),
        ("АКТ ПРИЁМА-ПЕРЕДАЧИ ОБОРУДОВАНИЯ № А-3", "TP-1",
         f"Поставщик передал, а Покупатель принял в собственность на объекте по адресу: {SITE}",
         "Стоимость переданного Оборудования составляет 350 000,00")),
}


@pytest.mark.parametrize("kind", list(RENT_AND_SUPPLY))
async def test_rent_and_supply_documents_over_http(desk: Any, pdf_to_text: Any,
                                                   kind: str) -> None:
    terms, act, roles, (price_words, act_words), act_says = RENT_AND_SUPPLY[kind]
    client = await desk.full_client()
    site = (await desk.site(client["id"], address=RENT_SITE, access_points=0) if kind == "rent"
            else await desk.site(client["id"]))
    contract = await desk.contract(client["id"], kind=kind, ends_on="2027-11-30",
                                   site_id=site["id"], **terms)
    await desk.sign(contract["id"], "2026-11-25")
    contract = await desk.contract_state(contract["id"])
    cid = contract["id"]
    common = (client["name"], contract["number"], *roles)

    async def both(fetch: Any) -> list[str]:
        """The document as DOCX (opened with python-docx) and as PDF (pdftotext)."""
        docx_r, pdf_r = await fetch("docx"), await fetch("pdf")
        assert pdf_r.content.startswith(b"%PDF-")
        return [docx_text(docx_r.content).replace("\u00a0", " "), pdf_to_text(pdf_r.content)]

    def says(texts: list[str], *phrases: str | None) -> None:
        for text in texts:
            missing = [p for p in (*common, *phrases)
                       if p is not None and " ".join(p.split()) not in text]
            assert not missing, (kind, missing, text)
            leaked = [p for p in FOREIGN[kind] if p in text]
            assert not leaked, (kind, leaked)

    path = f"/api/contracts/{cid}/documents"
    says(await both(lambda fmt: desk.get(f"{path}/price_protocol", params={"format": fmt})),
         "ПРОТОКОЛ СОГЛАСОВАНИЯ ЦЕНЫ", price_words)
    says(await both(lambda fmt: desk.post(f"{path}/acceptance-act?format={fmt}", act,
                                          expect=200)),
         act_words, *act_says, f"Передал: {roles[0]}", f"Принял: {roles[1]}")

    desk.today = date(2027, 2, 1)
    fee = (await desk.post(f"/api/contracts/{cid}/fee-change",
                           {"new_fee": "9000.00", "notice_on": "2027-02-01"},
                           expect=201)).json()
    says(await both(lambda fmt: desk.get(f"/api/amendments/{fee['id']}/document",
                                         params={"format": fmt})),
         "ПРОТОКОЛ СОГЛАСОВАНИЯ ЦЕНЫ", "Девять тысяч рублей 00 копеек")
    extension = (await desk.post(f"/api/contracts/{cid}/extension",
                                 {"new_ends_on": "2028-11-30"}, expect=201)).json()
    says(await both(lambda fmt: desk.get(f"/api/amendments/{extension['id']}/document",
                                         params={"format": fmt})),
         # the fee as the amendment records it (the contract's fee when it was recorded)
         "о продлении срока действия договора", "«30» ноября 2028 г.", price_words)
    desk.today = date(2027, 6, 1)
    termination = (await desk.post(f"/api/contracts/{cid}/terminate",
                                   {"effective_on": "2027-07-01"}, expect=201)).json()
    says(await both(lambda fmt: desk.get(f"/api/amendments/{termination['id']}/document",
                                         params={"format": fmt})),
         "о расторжении договора", "«01» июля 2027 г.", price_words)


async def test_cashless_rent_needs_the_site_owners_account(desk: Any) -> None:
    client = await desk.client(
        legal_address="г. Москва, ул. Садовая, д. 3", kpp="770701001",
        signatory={"position": "Директор", "full_name": "Петров Пётр Петрович"})
    site = await desk.site(client["id"], access_points=0)
    rent = await desk.contract(client["id"], kind="rent", site_id=site["id"])
    r = await desk.get(f"/api/contracts/{rent['id']}/documents/contract", expect=422)
    assert r.json()["errors"][0]["field"] == "client.bank"
    cash = await desk.contract(client["id"], kind="rent", site_id=site["id"],
                               payment_form="cash")
    r = await desk.get(f"/api/contracts/{cash['id']}/documents/contract")
    assert "распиской" in docx_text(r.content)


async def test_scan_upload_download_and_content_checks(desk: Any, db: Any) -> None:
    _, contract = await desk.signed_contract()
    path = f"/api/contracts/{contract['id']}/scans"
    r = await desk.post(path, files={"file": ("договор.pdf", PDF, "application/pdf")},
                        expect=201)
    scan = r.json()
    assert (scan["content_type"], scan["size"], scan["kind"], scan["filename"]) == (
        "application/pdf", len(PDF), "signed_scan", "договор.pdf")
    assert scan["sha256"] == hashlib.sha256(PDF).hexdigest()
    stored = list(desk.storage_dir.rglob("*.pdf"))
    assert len(stored) == 1 and stored[0].read_bytes() == PDF

    r = await desk.get(f"/api/documents/{scan['id']}")
    assert r.content == PDF and r.headers["content-type"] == "application/pdf"
    await desk.get(f"/api/documents/{scan['id']}", as_=desk.auth("manager2", "manager"),
                   expect=403)

    r = await desk.post(path, files={"file": ("photo.jpg", JPEG, "image/jpeg")}, expect=201)
    assert r.json()["content_type"] == "image/jpeg"
    listed = await desk.get(path)
    assert [s["filename"] for s in listed.json()] == ["договор.pdf", "photo.jpg"]
    uploaded = await db.events("contracts.document.uploaded", contract_id=contract["id"])
    assert [e["payload"]["content_type"] for e in uploaded] == ["application/pdf", "image/jpeg"]

    before = await db.counts()
    files_before = sorted(desk.storage_dir.rglob("*"))
    for name, content, declared, message in (
            ("evil.pdf", b"MZ\x90\x00 not a pdf", "application/pdf", "neither"),
            ("scan.pdf", JPEG, "application/pdf", "declared as application/pdf"),
            ("doc.docx", b"PK\x03\x04", "application/msword", "neither"),
            ("empty.pdf", b"", "application/pdf", "empty"),
            ("huge.pdf", PDF + b"0" * (64 * 1024), "application/pdf", "larger than")):
        r = await desk.post(path, files={"file": (name, content, declared)})
        assert r.status_code == 422, (name, r.text)
        assert r.json()["errors"][0]["field"] == "file" and message in r.json()["detail"], name
    assert await db.counts() == before
    assert sorted(desk.storage_dir.rglob("*")) == files_before
