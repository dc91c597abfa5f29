"""A bank statement in the browser: billing uploads the 1C file, the payment naming its
invoice is matched by itself, the anonymous one waits in the unmatched queue until billing
matches it by hand; both invoices show paid on the client cards."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from playwright.sync_api import FilePayload, expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System, eventually

from .conftest import Browsing
from .helpers import inn10
from .test_browser_billing import invoice_of, previous_period, signed_client

pytestmark = pytest.mark.browser
OUR_ACCOUNT = "40702810938000012345"  # billing's default company account and INN
OUR_INN = "7701000001"


def payment_order(number: str, amount: str, payer_inn: str, payer: str, purpose: str,
                  on: date) -> list[str]:
    day = on.strftime("%d.%m.%Y")
    return [
        "СекцияДокумент=Платежное поручение", f"Номер={number}", f"Дата={day}",
        f"Сумма={amount}", "ПлательщикСчет=40702810400000001111", f"ДатаПоступило={day}",
        f"Плательщик=ИНН {payer_inn} {payer}", f"ПлательщикИНН={payer_inn}",
        f"Плательщик1={payer}", "ПлательщикРасчСчет=40702810400000001111",
        "ПлательщикБанк1=ПАО СБЕРБАНК", "ПлательщикБИК=044525225",
        "ПлательщикКорсчет=30101810400000000225", f"ПолучательСчет={OUR_ACCOUNT}",
        f'Получатель=ИНН {OUR_INN} ООО "КЛИЕНТОПС"', f"ПолучательИНН={OUR_INN}",
        'Получатель1=ООО "КЛИЕНТОПС"', f"ПолучательРасчСчет={OUR_ACCOUNT}",
        "ПолучательБанк1=ПАО СБЕРБАНК", "ПолучательБИК=044525225",
        "ПолучательКорсчет=30101810400000000225", "ВидОплаты=01", "Очередность=5",
        f"НазначениеПлатежа={purpose}", "КонецДокумента"]


def statement(orders: list[list[str]], on: date) -> bytes:
    day = on.strftime("%d.%m.%Y")
    lines = ["1CClientBankExchange", "ВерсияФормата=1.03", "Кодировка=Windows",
             "Отправитель=Бухгалтерия предприятия, редакция 3.0", "Получатель=",
             f"ДатаСоздания={day}", "ВремяСоздания=18:05:11", f"ДатаНачала={day}",
             f"ДатаКонца={day}", f"РасчСчет={OUR_ACCOUNT}", "Документ=Платежное поручение",
             "СекцияРасчСчет", f"ДатаНачала={day}", f"ДатаКонца={day}",
             f"РасчСчет={OUR_ACCOUNT}", "НачальныйОстаток=0.00", "КонецРасчСчет"]
    for order in orders:
        lines.extend(order)
    lines.append("КонецФайла")
    return "\r\n".join(lines).encode("cp1251")


def test_statement_upload_and_the_unmatched_queue(browsing: Browsing, system: System) -> None:
    period = previous_period(business_today())
    named = signed_client(system, f"ООО «Выписка {uuid.uuid4().hex[:6]}»", period, "3000.00")
    anonymous = signed_client(system, f"ООО «Аноним {uuid.uuid4().hex[:6]}»", period,
                              "4000.00")
    invoice_n = eventually(lambda: invoice_of(system, named["client_id"], period))
    invoice_a = eventually(lambda: invoice_of(system, anonymous["client_id"], period))
    today = business_today()
    stranger = inn10()  # a payer billing knows nothing about
    file = statement([
        payment_order(str(uuid.uuid4().int % 10**6), invoice_n["total"], stranger,
                      "ООО РОГА", f"Оплата по счету № {invoice_n['number']}", today),
        payment_order(str(uuid.uuid4().int % 10**6), invoice_a["total"], stranger,
                      "ООО РОГА", "Оплата за услуги", today),
    ], today)

    desk = browsing.logged_in("billing")
    desk.goto("/billing/payments/new")
    upload: FilePayload = {"name": "kl_to_1c.txt", "mimeType": "text/plain", "buffer": file}
    desk.locator("input[name=statement]").set_input_files(files=[upload])
    desk.click("form[action='/billing/statements'] button[type=submit]")
    summary = desk.locator("#statement")
    expect(summary).to_contain_text("Поступлений: 2")
    expect(summary).to_contain_text("не разнесено: 1")

    desk.goto("/billing")
    queue = desk.locator("#unmatched tbody tr", has_text="Оплата за услуги")
    expect(queue).to_have_count(1)
    # picked by the invoice's number (offered in a list of open invoices), never an id
    expect(desk.locator(f"#open-invoices option[value='{invoice_a['number']}']")).to_have_count(1)
    queue.locator("input[name=invoice_number]").fill(invoice_a["number"])
    queue.locator("button", has_text="Разнести").click()
    expect(desk.get_by_test_id("flash")).to_have_text("Платёж разнесён.")
    expect(desk.locator("#unmatched tbody tr", has_text="Оплата за услуги")).to_have_count(0)

    # the same file again changes nothing
    desk.goto("/billing/payments/new")
    desk.locator("input[name=statement]").set_input_files(files=[upload])
    desk.click("form[action='/billing/statements'] button[type=submit]")
    expect(desk.locator("#statement")).to_contain_text("уже загружалась")

    for client, invoice in ((named, invoice_n), (anonymous, invoice_a)):
        desk.goto(f"/clients/{client['client_id']}")
        expect(desk.locator(f"#invoices tr[data-invoice='{invoice['number']}']")
               .get_by_test_id("invoice-status")).to_have_text("оплачен")
