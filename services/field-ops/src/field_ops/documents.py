"""Printed paper of the field side: the acceptance act (PDF) and the journal (XLSX)."""

from __future__ import annotations

import io
from datetime import date, datetime
from html import escape
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from clientops_shared.jobs import MOSCOW
from field_ops.domain.model import EQUIPMENT_LABELS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

JOURNAL_COLUMNS = (
    ("journal_number", "№ в журнале", 12),
    ("approved_at", "Зарегистрирована", 16),
    ("kind_label", "Вид работ", 18),
    ("client_name", "Клиент", 36),
    ("site_address", "Адрес объекта", 40),
    ("visit_on", "Дата выезда", 12),
    ("technician", "Техник", 14),
    ("status_label", "Отметка об исполнении", 20),
    ("reschedule_count", "Переносов", 10),
    ("not_done_reason", "Причина невыполнения", 30),
    ("completed_on", "Выполнена", 12),
)


def _d(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return "" if value is None else str(value)


def journal_xlsx(rows: list[dict[str, Any]], year: int) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = f"Журнал {year}"
    sheet.append([f"Журнал регистрации заявок на проведение работ, {year} год"])
    sheet["A1"].font = Font(bold=True)
    sheet.append([title for _, title, _ in JOURNAL_COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_d(row.get(key)) if key in ("approved_at", "visit_on", "completed_on")
                      else row.get(key) for key, _, _ in JOURNAL_COLUMNS])
    for index, (_, _, width) in enumerate(JOURNAL_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


ACT_CSS = """
@page { size: A4; margin: 18mm 15mm; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10.5pt; }
h1 { font-size: 14pt; text-align: center; margin-bottom: 2mm; }
p.sub { text-align: center; margin-top: 0; }
table { width: 100%; border-collapse: collapse; margin: 4mm 0; }
td, th { border: 1px solid #444; padding: 2mm; vertical-align: top; }
th { background: #eee; text-align: left; }
.sign td { border: none; padding-top: 12mm; }
"""


def act_html(order: dict[str, Any]) -> str:
    e = escape
    reports = order.get("reports") or []
    items = [i for r in reports for i in (r.get("equipment") or [])]
    lines = "".join(
        f"<tr><td>{n}</td><td>{e(EQUIPMENT_LABELS.get(str(i.get('type')), ''))}</td>"
        f"<td>{e(str(i.get('serial', '')))}"
        f"</td><td>{'снято' if i.get('action') == 'remove' else 'установлено'}</td></tr>"
        for n, i in enumerate(items, start=1)) or (
        "<tr><td>1</td><td>&nbsp;</td><td>&nbsp;</td><td>&nbsp;</td></tr>"
        "<tr><td>2</td><td>&nbsp;</td><td>&nbsp;</td><td>&nbsp;</td></tr>")
    number = order.get("journal_number") or "без номера"
    done = [w for r in reports for w in (r.get("works") or [])]
    works = ("<table><tr><th>Выполненные работы</th></tr>" + "".join(
        f"<tr><td>{e(str(w))}</td></tr>" for w in done) + "</table>") if done else ""
    return f"""<html><head><meta charset="utf-8"><style>{ACT_CSS}</style></head><body>
<h1>Акт приёма-передачи оборудования</h1>
<p class="sub">к заявке на проведение работ № {e(number)}
от {e(_d(order.get("approved_at") or order.get("created_at")))}</p>
<table>
<tr><th>Вид работ</th><td>{e(order["kind_label"])}</td></tr>
<tr><th>Клиент</th><td>{e(order.get("client_name") or "")}</td></tr>
<tr><th>Объект</th><td>{e(order.get("site_name") or "")}, {e(order.get("site_address") or "")}
</td></tr>
<tr><th>Дата и время выезда</th><td>{e(_d(order.get("visit_on")))} {e(order.get("window") or "")}
</td></tr>
<tr><th>Контактное лицо на объекте</th><td>{e(order.get("contact_name") or "")}
{e(order.get("contact_phone") or "")}</td></tr>
<tr><th>Исполнитель</th><td>{e(order.get("technician_name") or order.get("technician")
                                 or order.get("contractor_name") or "")}
</td></tr>
<tr><th>Что сделать</th><td>{e(order.get("description") or "")}</td></tr>
</table>
<table><tr><th>№</th><th>Оборудование</th><th>Серийный номер</th><th>Отметка</th></tr>
{lines}</table>
{works}
<table class="sign"><tr><td>Передал (техник): ____________________</td>
<td>Принял (представитель клиента): ____________________</td></tr></table>
</body></html>"""


def act_pdf(order: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=act_html(order)).write_pdf()
    return pdf
