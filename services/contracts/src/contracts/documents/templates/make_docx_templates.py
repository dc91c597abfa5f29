"""Generate the editable DOCX templates in ``docx/`` (docxtpl syntax inside Word files).

The .docx files are committed: a person may open one in Word, reword it and commit it
back. Run this script only to start over from the baseline wording:

    .venv/bin/python services/contracts/src/contracts/documents/templates/make_docx_templates.py

Every Jinja tag sits in a single run so the templates stay valid as generated. The HTML
templates in ``html/`` carry the same text for PDF output; change both together.
Output is byte-for-byte reproducible (fixed timestamps), so a rerun shows no diff.
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import _Cell

OUT_DIR = Path(__file__).resolve().parent / "docx"
FIXED_TIME = datetime(2026, 1, 1, tzinfo=UTC)
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
SIGN_LINE = "_______________"


def _new_document(title: str) -> DocxDocument:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.right_margin = Mm(25), Mm(15)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(3)
    # Russian proofing language, so Word spell-checks the text rather than flagging all of it
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "ru-RU")
    normal.element.get_or_add_rPr().append(lang)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, "ClientOps", "ClientOps"
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    props.comments = ""
    return doc


def _heading(doc: DocxDocument, text: str, *, size: int = 12) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = True
    run.font.size = Pt(size)


def _subtitle(doc: DocxDocument, text: str) -> None:
    paragraph = doc.add_paragraph(text)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _section(doc: DocxDocument, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_before = Pt(6)
    paragraph.add_run(text).bold = True


def _para(doc: DocxDocument, text: str) -> None:
    paragraph = doc.add_paragraph(text)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.first_line_indent = Mm(10)


def _tag(doc: DocxDocument, tag: str) -> None:
    """A paragraph holding only a docxtpl {%p ... %} tag; docxtpl removes it."""
    doc.add_paragraph(tag)


def _place_and_date(doc: DocxDocument) -> None:
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.paragraphs[0].add_run("{{ place }}")
    right.paragraphs[0].add_run("{{ dated }}")
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph()


def _cell_lines(cell: _Cell, lines: list[str], *, bold_first: bool = True) -> None:
    first, *rest = lines
    cell.paragraphs[0].add_run(first).bold = bold_first
    for line in rest:
        cell.add_paragraph(line)


def _party_cell(cell: _Cell, party: str, caption: str) -> None:
    _cell_lines(
        cell,
        [
            caption,
            f"{{{{ {party}.name }}}}",
            f"{{%p for line in {party}.requisites %}}",
            "{{ line }}",
            "{%p endfor %}",
            "",
            f"{{{{ {party}.position }}}}",
            f"{SIGN_LINE} / {{{{ {party}.short_name }}}} /",
            "М. П.",
        ],
    )


def _signatures(
    doc: DocxDocument,
    left: str = "ours",
    right: str = "theirs",
    left_caption: str = "{{ ours.role }}",
    right_caption: str = "{{ theirs.role }}",
) -> None:
    _section(doc, "ПОДПИСИ И РЕКВИЗИТЫ СТОРОН")
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    cells = table.rows[0].cells
    _party_cell(cells[0], left, left_caption)
    _party_cell(cells[1], right, right_caption)


def _grid(doc: DocxDocument, header: list[str], rows: list[list[str]]) -> None:
    """A bordered table; a row whose first cell starts with {%tr is a docxtpl loop row."""
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=False):
            cell.paragraphs[0].add_run(text)
    doc.add_paragraph()


PREAMBLE = "{{ ours.preamble }}, с одной стороны, и {{ theirs.preamble }}, с другой стороны,"


NOTICE = "{{ contract.notice_days|calendar_days }}"


def _contract_supply(doc: DocxDocument) -> None:
    """Sections 1-3 of a supply contract: we sell equipment, ownership passes to the client."""
    _section(doc, "1. ПРЕДМЕТ ДОГОВОРА")
    _para(
        doc,
        "1.1. Поставщик обязуется передать в собственность Покупателя оборудование "
        "(далее — «Оборудование»), а Покупатель обязуется принять Оборудование и оплатить "
        "его на условиях Договора.",
    )
    _para(
        doc,
        "1.2. Наименование, количество, комплектность и цена единицы Оборудования "
        "указываются в спецификации, являющейся неотъемлемой частью Договора. Оборудование "
        "поставляется по адресу: {{ contract.site_address }} (далее — «Объект»).",
    )
    _section(doc, "2. ЦЕНА ДОГОВОРА И ПОРЯДОК РАСЧЁТОВ")
    _para(
        doc,
        "2.1. Цена Договора составляет {{ fee.once }}. Цена включает стоимость упаковки "
        "и доставки Оборудования на Объект.",
    )
    _para(
        doc,
        "2.2. Покупатель оплачивает Оборудование в безналичном порядке путём перечисления "
        "денежных средств на расчётный счёт Поставщика на основании счёта Поставщика "
        "в течение 5 (пяти) банковских дней с даты его выставления.",
    )
    _para(
        doc,
        "2.3. Обязательство Покупателя по оплате считается исполненным с даты зачисления "
        "денежных средств на расчётный счёт Поставщика.",
    )
    _section(doc, "3. ПОСТАВКА, ПРИЁМКА И ПЕРЕХОД ПРАВА СОБСТВЕННОСТИ")
    _para(
        doc,
        "3.1. Поставщик доставляет Оборудование на Объект в течение 10 (десяти) рабочих "
        "дней с даты поступления оплаты, согласовав с Покупателем дату и время доставки.",
    )
    _para(
        doc,
        "3.2. Приёмка Оборудования по количеству и комплектности производится на Объекте "
        "и оформляется подписанием Сторонами универсального передаточного документа (УПД).",
    )
    _para(
        doc,
        "3.3. Право собственности на Оборудование переходит к Покупателю с даты подписания "
        "Сторонами УПД, но не ранее полной оплаты цены Договора; риск случайной гибели или "
        "повреждения Оборудования — с даты подписания УПД.",
    )
    _para(
        doc,
        "3.4. Гарантийный срок на Оборудование составляет 12 (двенадцать) месяцев с даты "
        "подписания УПД.",
    )


def _contract_rent(doc: DocxDocument) -> None:
    """Sections 1-3 of a rent contract: our terminal on the client's site, we pay the rent."""
    _section(doc, "1. ПРЕДМЕТ ДОГОВОРА")
    _para(
        doc,
        "1.1. Арендодатель предоставляет Арендатору за плату во временное пользование часть "
        "площади (место) на объекте по адресу: {{ contract.site_address }} "
        "(далее — «Объект») для размещения и эксплуатации платёжного терминала Арендатора "
        "(далее — «Оборудование»).",
    )
    _para(
        doc,
        "1.2. Место размещения Оборудования согласовывается Сторонами и фиксируется в акте "
        "приёма-передачи. Оборудование является собственностью Арендатора.",
    )
    _section(doc, "2. АРЕНДНАЯ ПЛАТА И ПОРЯДОК РАСЧЁТОВ")
    _para(
        doc,
        "2.1. Арендатор уплачивает Арендодателю арендную плату в размере {{ fee.sentence }}. "
        "Арендная плата включает стоимость электроэнергии, потребляемой Оборудованием.",
    )
    _para(
        doc,
        "2.2. Арендная плата начисляется {% if contract.bill_from_install %}с даты установки "
        "Оборудования на Объекте, указанной в акте приёма-передачи"
        "{% else %}с {{ contract.starts_on|date_long }}{% endif %}; за неполный месяц — "
        "пропорционально количеству календарных дней.",
    )
    _tag(doc, "{%p if contract.payment_form == 'cash' %}")
    _para(
        doc,
        "2.3. Арендная плата выплачивается ежемесячно, не позднее 25-го числа текущего "
        "месяца, наличными денежными средствами через уполномоченного представителя "
        "Арендатора. Получение денежных средств Арендодатель подтверждает распиской, "
        "приходным кассовым ордером или кассовым чеком.",
    )
    _tag(doc, "{%p else %}")
    _para(
        doc,
        "2.3. Арендная плата выплачивается ежемесячно, не позднее 25-го числа текущего "
        "месяца, в безналичном порядке путём перечисления денежных средств на расчётный счёт "
        "Арендодателя, указанный в разделе «Подписи и реквизиты Сторон».",
    )
    _tag(doc, "{%p endif %}")
    _para(
        doc,
        "2.4. Размер арендной платы может быть изменён по соглашению Сторон; изменение "
        "оформляется дополнительным соглашением к Договору.",
    )
    _section(doc, "3. ОБЯЗАННОСТИ СТОРОН")
    _para(
        doc,
        "3.1. Арендодатель обеспечивает возможность подключения Оборудования к электросети "
        "и доступ представителей Арендатора (техников, инкассаторов) к Оборудованию в часы "
        "работы Объекта, не перемещает и не отключает Оборудование без согласия Арендатора "
        "и незамедлительно сообщает Арендатору о его повреждении или неисправности.",
    )
    _para(
        doc,
        "3.2. Арендатор своевременно вносит арендную плату, за свой счёт устанавливает, "
        "обслуживает, ремонтирует и инкассирует Оборудование, а при прекращении Договора "
        "демонтирует его в течение 10 (десяти) рабочих дней и освобождает место размещения.",
    )


def _contract_services(doc: DocxDocument) -> None:
    """Sections 1-3 of subscription, pilot and maintenance: we serve for a monthly fee."""
    _section(doc, "1. ПРЕДМЕТ ДОГОВОРА")
    _para(
        doc,
        "1.1. Исполнитель обязуется оказывать Заказчику {{ service }} по адресу: "
        "{{ contract.site_address }} (далее — «Объект»), а Заказчик обязуется принимать "
        "и оплачивать услуги на условиях Договора.",
    )
    _para(
        doc,
        "1.2. Количество точек проезда на Объекте: {{ contract.access_points }}. "
        "{{ equipment_terms }}",
    )
    _section(doc, "2. СТОИМОСТЬ УСЛУГ И ПОРЯДОК РАСЧЁТОВ")
    _para(doc, "2.1. Абонентская плата составляет {{ fee.sentence }}.")
    _para(doc, "2.2. Оплата производится {{ payment_terms }}.")
    _para(
        doc,
        "2.3. Исполнитель вправе изменить размер абонентской платы, письменно уведомив "
        f"Заказчика{{% if contract.notice_days %}} не менее чем за {NOTICE}{{% endif %}}. "
        "Новая стоимость оформляется протоколом согласования цены.",
    )
    _section(doc, "3. ОБЯЗАННОСТИ СТОРОН")
    _para(
        doc,
        "3.1. Исполнитель обеспечивает работоспособность оборудования, проводит его "
        "регламентное обслуживание и выезжает на Объект по аварийной заявке Заказчика "
        "{% if contract.emergency_sla_days %}в течение "
        "{{ contract.emergency_sla_days|within_working_days }}"
        "{% else %}в согласованный Сторонами срок{% endif %}.",
    )
    _para(
        doc,
        "3.2. Заказчик обеспечивает доступ представителей Исполнителя на Объект, "
        "сохранность оборудования и своевременную оплату услуг.",
    )


def contract() -> DocxDocument:
    doc = _new_document("Договор")
    _heading(doc, "ДОГОВОР № {{ contract.number }}", size=13)
    _subtitle(doc, "{{ subject }}")
    _place_and_date(doc)
    _para(
        doc,
        f"{PREAMBLE} вместе именуемые «Стороны», заключили настоящий договор "
        "(далее — «Договор») о нижеследующем:",
    )
    # sections 1-3 depend on the kind: we sell (supply), we rent a place (rent) or we serve
    _tag(doc, "{%p if contract.kind == 'supply' %}")
    _contract_supply(doc)
    _tag(doc, "{%p elif contract.kind == 'rent' %}")
    _contract_rent(doc)
    _tag(doc, "{%p else %}")
    _contract_services(doc)
    _tag(doc, "{%p endif %}")
    _section(doc, "4. СРОК ДЕЙСТВИЯ ДОГОВОРА")
    _para(
        doc,
        "4.1. Договор вступает в силу {{ contract.starts_on|date_long }} и действует "
        "{% if contract.ends_on %}по {{ contract.ends_on|date_long }}"
        "{% else %}без ограничения срока.{% endif %}",
    )
    _tag(doc, "{%p if contract.kind == 'supply' %}")
    _para(
        doc,
        "4.2. Договор может быть изменён или расторгнут по соглашению Сторон, а также "
        "по основаниям, предусмотренным законодательством Российской Федерации. Окончание "
        "срока действия Договора не освобождает Стороны от исполнения обязательств, "
        "возникших до его окончания.",
    )
    _tag(doc, "{%p else %}")
    _para(
        doc,
        "4.2. Каждая из Сторон вправе расторгнуть Договор, письменно уведомив другую "
        f"Сторону{{% if contract.notice_days %}} не менее чем за {NOTICE}{{% endif %}}.",
    )
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if contract.auto_renew and contract.ends_on %}")
    _para(
        doc,
        "4.3. Если ни одна из Сторон не заявит письменно о прекращении Договора "
        f"{{% if contract.notice_days %}}не позднее чем за {NOTICE} {{% endif %}}"
        "до окончания срока его действия, Договор считается продлённым на каждый следующий "
        "календарный год на тех же условиях.",
    )
    _tag(doc, "{%p endif %}")
    _section(doc, "5. ПРОЧИЕ УСЛОВИЯ")
    _para(
        doc,
        "5.1. Споры разрешаются путём переговоров, а при недостижении согласия — "
        "в арбитражном суде по месту нахождения {{ ours.role_genitive }}.",
    )
    _para(
        doc,
        "5.2. Договор составлен в двух экземплярах, имеющих равную юридическую силу, "
        "по одному для каждой из Сторон.",
    )
    _signatures(doc)
    return doc


# how rent is paid, by the contract's payment form (seed 004 §8-9: cash routes, cashless)
RENT_PAYMENT = (
    "{% if contract.payment_form == 'cash' %}наличными денежными средствами через "
    "уполномоченного представителя Арендатора{% else %}в безналичном порядке путём "
    "перечисления денежных средств на расчётный счёт Арендодателя{% endif %}"
)
SUPPLY_PAYMENT = (
    "в безналичном порядке путём перечисления денежных средств на расчётный счёт Поставщика "
    "на основании счёта Поставщика в течение 5 (пяти) банковских дней с даты его выставления"
)


def _kinds(
    doc: DocxDocument,
    *,
    supply: Callable[[], None],
    rent: Callable[[], None],
    services: Callable[[], None],
) -> None:
    """Paragraphs worded per contract kind: supply, rent, or the service kinds."""
    _tag(doc, "{%p if contract.kind == 'supply' %}")
    supply()
    _tag(doc, "{%p elif contract.kind == 'rent' %}")
    rent()
    _tag(doc, "{%p else %}")
    services()
    _tag(doc, "{%p endif %}")


def _price_supply(doc: DocxDocument) -> None:
    _para(doc, f"{PREAMBLE} согласовали цену Оборудования по договору {{{{ contract_ref }}}}:")
    _grid(
        doc,
        ["№", "Наименование", "Адрес поставки", "Цена, руб."],
        [
            [
                "1",
                "Оборудование согласно спецификации к Договору",
                "{{ contract.site_address }}",
                "{{ price.figures }}",
            ]
        ],
    )
    _para(doc, "1. Цена Договора составляет {{ price.once }}.")
    _para(doc, "2. Цена включает стоимость упаковки и доставки Оборудования на Объект.")
    _para(doc, f"3. Покупатель оплачивает Оборудование {SUPPLY_PAYMENT}.")
    _tag(doc, "{%p if amendment %}")
    _para(doc, "4. Цена применяется с {{ price_from|date_long }}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if is_fee_change %}")
    _para(
        doc,
        "5. Оборудование, поставленное до {{ price_from|date_long }}, оплачивается по ранее "
        "согласованной цене {{ fee.figures }} руб.",
    )
    _tag(doc, "{%p endif %}")


def _price_rent(doc: DocxDocument) -> None:
    _para(doc, f"{PREAMBLE} согласовали размер арендной платы по договору {{{{ contract_ref }}}}:")
    _grid(
        doc,
        ["№", "Предмет аренды", "Адрес Объекта", "Арендная плата в месяц, руб."],
        [
            [
                "1",
                "Место для размещения платёжного терминала",
                "{{ contract.site_address }}",
                "{{ price.figures }}",
            ]
        ],
    )
    _para(doc, "1. Арендная плата составляет {{ price.sentence }}.")
    _para(
        doc,
        "2. Арендная плата в указанном размере начисляется "
        "{% if not amendment and contract.bill_from_install %}с даты установки Оборудования "
        "на Объекте, указанной в акте приёма-передачи{% else %}с {{ price_from|date_long }}"
        "{% endif %}; за неполный месяц — пропорционально количеству календарных дней.",
    )
    _para(
        doc,
        "3. Арендатор выплачивает арендную плату ежемесячно, не позднее 25-го числа текущего "
        f"месяца, {RENT_PAYMENT}.",
    )
    _tag(doc, "{%p if is_fee_change %}")
    _para(
        doc,
        "4. Ранее действовавшая арендная плата {{ fee.figures }} руб. в месяц применяется "
        "до {{ price_from|date_long }}",
    )
    _tag(doc, "{%p endif %}")


def _price_services(doc: DocxDocument) -> None:
    _para(doc, f"{PREAMBLE} согласовали стоимость услуг по договору {{{{ contract_ref }}}}:")
    _grid(
        doc,
        ["№", "Услуга", "Объект", "Точек проезда", "Стоимость в месяц, руб."],
        [
            [
                "1",
                "Абонентское обслуживание оборудования",
                "{{ contract.site_address }}",
                "{{ contract.access_points }}",
                "{{ price.figures }}",
            ]
        ],
    )
    _para(doc, "1. Стоимость услуг составляет {{ price.sentence }}.")
    _para(doc, "2. Стоимость применяется с {{ price_from|date_long }}")
    _tag(doc, "{%p if is_fee_change %}")
    _para(
        doc,
        "3. Ранее действовавшая абонентская плата {{ fee.figures }} руб. в месяц применяется "
        "до {{ price_from|date_long }}",
    )
    _tag(doc, "{%p endif %}")


def price_protocol() -> DocxDocument:
    doc = _new_document("Протокол согласования цены")
    _heading(doc, "ПРОТОКОЛ СОГЛАСОВАНИЯ ЦЕНЫ", size=13)
    _subtitle(doc, "к договору {{ contract_ref }}")
    _place_and_date(doc)
    _kinds(
        doc,
        supply=lambda: _price_supply(doc),
        rent=lambda: _price_rent(doc),
        services=lambda: _price_services(doc),
    )
    _para(doc, "Настоящий протокол является неотъемлемой частью договора {{ contract_ref }}")
    _signatures(doc)
    return doc


def acceptance_act() -> DocxDocument:
    doc = _new_document("Акт приёма-передачи оборудования")
    # seed 004 §2.6: in rent it is the «акт приёма-передачи терминала»
    _heading(
        doc,
        "АКТ ПРИЁМА-ПЕРЕДАЧИ {% if contract.kind == 'rent' %}ТЕРМИНАЛА{% else %}ОБОРУДОВАНИЯ"
        "{% endif %} № {{ handover.number }}",
        size=13,
    )
    _subtitle(doc, "к договору {{ contract_ref }}")
    _place_and_date(doc)
    _para(
        doc,
        f"{PREAMBLE} составили настоящий акт о том, что {{{{ giver.role }}}} передал, "
        "а {{ taker.role }} принял {{ purpose }} по адресу: {{ contract.site_address }} "
        "следующее оборудование:",
    )
    _grid(
        doc,
        ["№", "Наименование", "Серийный номер", "Кол-во, шт.", "Стоимость, руб."],
        [
            ["{%tr for line in handover.lines %}"],
            [
                "{{ loop.index }}",
                "{{ line.name }}",
                "{{ line.serial or '—' }}",
                "{{ line.qty }}",
                "{{ line.total|money if line.total is not none else '—' }}",
            ],
            ["{%tr endfor %}"],
        ],
    )
    _para(doc, "1. Всего передано единиц оборудования: {{ total_qty }}.")
    _tag(doc, "{%p if equipment_value %}")
    _para(
        doc,
        "2. {% if contract.kind == 'supply' %}Стоимость переданного Оборудования составляет"
        "{% else %}Общая оценочная стоимость оборудования:{% endif %} {{ equipment_value }}.",
    )
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if contract.kind == 'rent' %}")
    _para(
        doc,
        "Дата {% if installing %}установки Оборудования на Объекте{% else %}снятия "
        "Оборудования с Объекта{% endif %}: {{ dated }}"
        "{% if installing and contract.bill_from_install %} Арендная плата начисляется "
        "с этой даты.{% endif %}",
    )
    _para(
        doc,
        "{% if installing %}Оборудование (платёжный терминал) является собственностью "
        "Арендатора и размещается на Объекте на условиях Договора.{% else %}Место размещения "
        "Оборудования на Объекте освобождено.{% endif %}",
    )
    _tag(doc, "{%p elif contract.kind == 'supply' %}")
    _para(
        doc,
        "Право собственности на Оборудование и риск его случайной гибели или повреждения "
        "переходят к Покупателю в порядке, установленном Договором.",
    )
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if handover.work_order_no %}")
    _para(doc, "Основание: заявка на проведение работ № {{ handover.work_order_no }}.")
    _tag(doc, "{%p endif %}")
    _para(
        doc,
        "Оборудование передано в исправном состоянии и полной комплектности. "
        "Стороны претензий друг к другу не имеют. Акт составлен в двух экземплярах, "
        "по одному для каждой из Сторон.",
    )
    _signatures(
        doc,
        left="giver",
        right="taker",
        left_caption="Передал: {{ giver.role }}",
        right_caption="Принял: {{ taker.role }}",
    )
    return doc


def _termination_supply(doc: DocxDocument) -> None:
    _para(
        doc,
        "2. Цена Договора составляет {{ fee.once }}. Оборудование, поставленное "
        "Покупателю до даты расторжения, оплачивается по цене Договора; гарантийные "
        "обязательства Поставщика в отношении такого Оборудования сохраняются.",
    )
    _para(
        doc,
        "3. Денежные средства, уплаченные Покупателем за Оборудование, не поставленное "
        "до даты расторжения, Поставщик возвращает на расчётный счёт Покупателя в течение "
        "10 (десяти) банковских дней с даты расторжения.",
    )
    _para(
        doc,
        "4. С даты расторжения обязательства Сторон по Договору прекращаются, за исключением "
        "обязательств по расчётам и гарантийных обязательств, возникших до этой даты.",
    )


def _termination_rent(doc: DocxDocument) -> None:
    _para(
        doc,
        "2. Арендная плата в размере {{ fee.sentence }} начисляется по день, "
        "предшествующий дате расторжения; за неполный месяц плата рассчитывается "
        "пропорционально количеству календарных дней.",
    )
    _para(
        doc,
        "3. Арендатор выплачивает Арендодателю арендную плату, начисленную до даты "
        f"расторжения, в течение 10 (десяти) рабочих дней с даты расторжения {RENT_PAYMENT}.",
    )
    _para(
        doc,
        "4. Арендатор демонтирует принадлежащее ему Оборудование (платёжный терминал) "
        "с Объекта по адресу: {{ contract.site_address }} в течение 10 (десяти) рабочих дней "
        "с даты расторжения и освобождает место размещения; Арендодатель обеспечивает "
        "доступ представителей Арендатора к Оборудованию. Снятие Оборудования оформляется "
        "актом приёма-передачи.",
    )


def _termination_services(doc: DocxDocument) -> None:
    _para(
        doc,
        "2. Абонентская плата в размере {{ fee.sentence }} начисляется по день, "
        "предшествующий дате расторжения; за неполный месяц плата рассчитывается "
        "пропорционально количеству календарных дней.",
    )
    _para(
        doc,
        "3. Заказчик оплачивает услуги, оказанные до даты расторжения, в течение 5 (пяти) "
        "банковских дней с даты получения счёта.",
    )
    _para(
        doc,
        "4. Исполнитель снимает принадлежащее ему оборудование с Объекта по адресу: "
        "{{ contract.site_address }} в течение 10 (десяти) рабочих дней с даты расторжения. "
        "Возврат оборудования оформляется актом приёма-передачи.",
    )


def termination_agreement() -> DocxDocument:
    doc = _new_document("Дополнительное соглашение о расторжении договора")
    _heading(doc, "ДОПОЛНИТЕЛЬНОЕ СОГЛАШЕНИЕ № {{ amendment.number }}", size=13)
    _subtitle(doc, "о расторжении договора {{ contract_ref }}")
    _place_and_date(doc)
    _para(doc, f"{PREAMBLE} заключили настоящее соглашение о нижеследующем:")
    _para(
        doc,
        "1. Стороны пришли к соглашению расторгнуть договор {{ contract_ref }} "
        "(далее — «Договор») с {{ amendment.effective_on|date_long }}",
    )
    _kinds(
        doc,
        supply=lambda: _termination_supply(doc),
        rent=lambda: _termination_rent(doc),
        services=lambda: _termination_services(doc),
    )
    _para(
        doc,
        "5. Соглашение вступает в силу с момента подписания, составлено в двух экземплярах "
        "и является неотъемлемой частью Договора.",
    )
    _signatures(doc)
    return doc


def extension_agreement() -> DocxDocument:
    doc = _new_document("Дополнительное соглашение о продлении договора")
    _heading(doc, "ДОПОЛНИТЕЛЬНОЕ СОГЛАШЕНИЕ № {{ amendment.number }}", size=13)
    _subtitle(doc, "о продлении срока действия договора {{ contract_ref }}")
    _place_and_date(doc)
    _para(doc, f"{PREAMBLE} заключили настоящее соглашение о нижеследующем:")
    _para(
        doc,
        "1. Стороны пришли к соглашению продлить срок действия договора {{ contract_ref }} "
        "(далее — «Договор») по {{ amendment.new_ends_on|date_long }}",
    )
    _kinds(
        doc,
        supply=lambda: _para(
            doc,
            "2. С {{ amendment.effective_on|date_long }} цена Договора составляет "
            "{{ price.once }}. Поставщик поставляет Оборудование, не поставленное на дату "
            "подписания соглашения, в пределах продлённого срока.",
        ),
        rent=lambda: _para(
            doc,
            "2. С {{ amendment.effective_on|date_long }} арендная плата составляет "
            "{{ price.sentence }}. Арендная плата выплачивается ежемесячно, не позднее 25-го "
            f"числа текущего месяца, {RENT_PAYMENT}.",
        ),
        services=lambda: _para(
            doc,
            "2. С {{ amendment.effective_on|date_long }} абонентская плата "
            "составляет {{ price.sentence }}.",
        ),
    )
    _para(doc, "3. Остальные условия Договора остаются неизменными.")
    _para(
        doc,
        "4. Соглашение вступает в силу с момента подписания, составлено в двух экземплярах "
        "и является неотъемлемой частью Договора.",
    )
    _signatures(doc)
    return doc


def company_card() -> DocxDocument:
    doc = _new_document("Карточка предприятия")
    _heading(doc, "КАРТОЧКА ПРЕДПРИЯТИЯ", size=13)
    _subtitle(doc, "{{ company.short_name }}")
    doc.add_paragraph()
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    rows = [
        ("Полное наименование", "{{ company.name }}"),
        ("Сокращённое наименование", "{{ company.short_name }}"),
        ("ИНН", "{{ company.inn }}"),
        ("КПП", "{{ company.kpp }}"),
        ("ОГРН", "{{ company.ogrn }}"),
        ("Юридический адрес", "{{ company.address }}"),
        ("Почтовый адрес", "{{ company.postal_address or company.address }}"),
        ("Банк", "{{ company.bank.bank_name }}"),
        ("БИК", "{{ company.bank.bik }}"),
        ("Расчётный счёт", "{{ company.bank.account }}"),
        ("Корреспондентский счёт", "{{ company.bank.corr_account }}"),
        (
            "{{ company.director.position }}",
            "{{ company.director.full_name }}, действует на основании {{ company.director.basis }}",
        ),
        ("Телефон", "{{ company.phone|phone if company.phone else '—' }}"),
        ("E-mail", "{{ company.email or '—' }}"),
    ]
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].paragraphs[0].add_run(label).bold = True
        cells[1].paragraphs[0].add_run(value)
    doc.add_paragraph()
    doc.add_paragraph(f"{{{{ ours.position }}}} {SIGN_LINE} / {{{{ ours.short_name }}}} /")
    return doc


BUILDERS: dict[str, Callable[[], DocxDocument]] = {
    "contract": contract,
    "price_protocol": price_protocol,
    "acceptance_act": acceptance_act,
    "termination_agreement": termination_agreement,
    "extension_agreement": extension_agreement,
    "company_card": company_card,
}


def _reproducible(docx: bytes) -> bytes:
    """Rewrite the zip with fixed timestamps so regenerating gives identical bytes."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(docx)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(item.filename))
    return out.getvalue()


def build_all() -> dict[str, bytes]:
    """Template name -> .docx bytes."""
    result: dict[str, bytes] = {}
    for name, build in BUILDERS.items():
        buffer = io.BytesIO()
        build().save(buffer)
        result[name] = _reproducible(buffer.getvalue())
    return result


def main(out_dir: Path = OUT_DIR) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in build_all().items():
        path = out_dir / f"{name}.docx"
        path.write_bytes(data)
        sys.stdout.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
