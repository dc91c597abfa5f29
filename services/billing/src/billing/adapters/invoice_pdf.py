"""An invoice as a PDF (WeasyPrint from HTML) with the GOST R 56042 payment QR code.

The document is rendered on request from the stored invoice, which never changes once issued,
so the same invoice always gives the same content.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

from pytils import numeral

from billing.domain.payment_qr import (
    PaymentDetails,
    invoice_purpose,
    payment_string,
    render_png,
)
from billing.domain.vat import VatMode

_CSS = """
@page { size: A4; margin: 15mm 15mm 15mm 20mm; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; }
table { border-collapse: collapse; width: 100%; }
td, th { border: 0.6pt solid #000; padding: 2pt 4pt; vertical-align: top; }
th { background: #eee; }
.num { text-align: right; white-space: nowrap; }
.bank td { height: 14pt; }
.nob td { border: none; }
h1 { font-size: 13pt; border-bottom: 1.5pt solid #000; padding-bottom: 4pt; }
.qr { float: right; width: 38mm; margin-left: 6mm; text-align: center; font-size: 7pt; }
.sum { margin-top: 6pt; }
"""


def rubles(amount: Decimal) -> str:
    """«12 500,00» as Russian documents write money."""
    whole, frac = f"{amount:.2f}".split(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups: list[str] = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return f"{sign}{' '.join(groups)},{frac}"


def amount_in_words(amount: Decimal) -> str:
    rub = int(abs(amount))
    kop = int((abs(amount) - rub) * 100)
    words = numeral.in_words(rub)
    rub_word = numeral.choose_plural(rub, ("рубль", "рубля", "рублей"))
    kop_word = numeral.choose_plural(kop, ("копейка", "копейки", "копеек"))
    text = f"{words} {rub_word} {kop:02d} {kop_word}"
    return text[0].upper() + text[1:]


def qr_payload(payee: PaymentDetails, number: str, issued_on: date, total: Decimal,
               vat: Decimal | None, payer_inn: str | None) -> str:
    """The ST00012 string for paying this invoice: payee, sum, purpose naming the invoice."""
    extra = {"PayerINN": payer_inn} if payer_inn else {}
    details = PaymentDetails(
        name=payee.name, personal_acc=payee.personal_acc, bank_name=payee.bank_name,
        bic=payee.bic, corresp_acc=payee.corresp_acc, payee_inn=payee.payee_inn,
        kpp=payee.kpp, amount=total, purpose=invoice_purpose(number, issued_on, total, vat),
        extra=extra)
    return payment_string(details)


def _rate(rate: Decimal | None) -> str:
    return "без НДС" if rate is None else f"{rate.normalize():f}%"


def render_html(inv: Mapping[str, Any], lines: Sequence[Mapping[str, Any]],
                payee: PaymentDetails, company_address: str) -> str:
    exempt = inv["vat_mode"] == VatMode.EXEMPT
    credit = inv["kind"] == "credit_note"
    vat_for_qr = None if exempt else inv["vat"]
    qr = ""
    if not credit and inv["total"] > 0:
        payload = qr_payload(payee, inv["number"], inv["issued_on"], inv["total"], vat_for_qr,
                             inv.get("client_inn"))
        png = base64.b64encode(render_png(payload, scale=3, border=2)).decode()
        qr = (f'<div class="qr"><img src="data:image/png;base64,{png}" style="width:36mm">'
              f"<br>Оплата по QR-коду</div>")
    rows = "".join(
        f"<tr><td class='num'>{n}</td><td>{escape(line['description'])}</td>"
        f"<td class='num'>{rubles(line['amount'])}</td>"
        f"<td class='num'>{_rate(line['vat_rate'])}</td>"
        f"<td class='num'>{rubles(line['vat'])}</td>"
        f"<td class='num'>{rubles(line['total'])}</td></tr>"
        for n, line in enumerate(lines, start=1))
    title = "Кредит-нота (корректировка)" if credit else "Счёт на оплату"
    vat_line = ("Без налога (НДС)" if exempt
                else f"В том числе НДС: {rubles(inv['vat'])}" if inv["vat_mode"] ==
                VatMode.INCLUSIVE else f"НДС: {rubles(inv['vat'])}")
    corrects = (f"<p>Исправление (основание: {escape(inv['reason'] or '')}).</p>"
                if inv.get("corrects_id") else "")
    due = "" if credit else f"<p>Оплатить до {inv['due_on']:%d.%m.%Y}.</p>"
    return f"""<!doctype html><html lang="ru"><head><meta charset="utf-8">
<style>{_CSS}</style></head><body>
{qr}
<table class="bank">
<tr><td colspan="2" rowspan="2">{escape(payee.bank_name)}<br><small>Банк получателя</small></td>
<td>БИК</td><td>{escape(payee.bic)}</td></tr>
<tr><td>Сч. №</td><td>{escape(payee.corresp_acc)}</td></tr>
<tr><td>ИНН {escape(payee.payee_inn or '')}</td><td>КПП {escape(payee.kpp or '')}</td>
<td rowspan="2">Сч. №</td><td rowspan="2">{escape(payee.personal_acc)}</td></tr>
<tr><td colspan="2">{escape(payee.name)}<br><small>Получатель</small></td></tr>
</table>
<h1>{title} № {escape(inv['number'])} от {inv['issued_on']:%d.%m.%Y}</h1>
<table class="nob">
<tr><td>Поставщик:</td><td>{escape(payee.name)}, ИНН {escape(payee.payee_inn or '')},
КПП {escape(payee.kpp or '')}, {escape(company_address)}</td></tr>
<tr><td>Покупатель:</td><td>{escape(inv.get('client_name') or '')},
ИНН {escape(inv.get('client_inn') or '')}</td></tr>
<tr><td>Основание:</td><td>Договор № {escape(inv['contract_number'])}</td></tr>
</table>
<br>
<table>
<tr><th>№</th><th>Наименование</th><th>Сумма без НДС</th><th>Ставка</th><th>НДС</th>
<th>Всего</th></tr>
{rows}
</table>
<div class="sum">
<p class="num">Итого: {rubles(inv['amount'])}<br>{vat_line}<br>
<b>Всего к оплате: {rubles(inv['total'])}</b></p>
<p>Всего наименований {len(lines)}, на сумму {rubles(inv['total'])} руб.<br>
<b>{amount_in_words(inv['total'])}</b></p>
{due}{corrects}
</div>
</body></html>"""


def render_pdf(inv: Mapping[str, Any], lines: Sequence[Mapping[str, Any]],
               payee: PaymentDetails, company_address: str) -> bytes:
    import weasyprint

    html = render_html(inv, lines, payee, company_address)
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf
