"""How the pages write dates, amounts and names: Russian conventions, Moscow time."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from clientops_shared.ru import MONTHS

MOSCOW = ZoneInfo("Europe/Moscow")
NBSP = "\u00a0"


ROLE_TITLES = {
    "manager": "Менеджер", "head": "Руководитель", "billing": "Биллинг",
    "dispatcher": "Диспетчер", "technician": "Техник", "logistics": "Логист",
    "lawyer": "Юрист", "accountant": "Бухгалтер", "admin": "Администратор",
    "sales": "Менеджер ОП", "service": "Сервис",
}

CONTRACT_STATUS = {
    "draft": "черновик", "pending_approval": "на согласовании", "approved": "согласован",
    "rejected": "отклонён", "signed": "подписан", "active": "действует",
    "suspended": "приостановлен", "terminated": "расторгнут", "expired": "истёк",
    "renewed": "продлён", "ended": "завершён",
}

CONTRACT_KIND = {
    "subscription": "абонентский", "maintenance": "обслуживание", "rent": "аренда",
    "pilot": "пилот", "supply": "поставка",
}

INVOICE_STATUS = {
    "issued": "выставлен", "paid": "оплачен", "partially_paid": "оплачен частично",
    "overdue": "просрочен", "cancelled": "аннулирован", "draft": "черновик",
    "corrected": "исправлен", "void": "аннулирован", "credited": "сторнирован",
}

SUBSCRIPTION_STATUS = {
    "pending_install": "ждёт монтажа", "active": "действует", "suspended": "приостановлена",
    "ended": "закончилась",
}

CLAIM_STAGE = {
    "received": "получена", "answered": "дан ответ", "negotiation": "переговоры",
    "court": "суд", "resolved": "урегулирована", "lost": "проиграна",
}

FIELD_TITLES = {
    "client.legal_address": "юридический адрес клиента",
    "client.signatory": "подписант клиента (должность и ФИО)",
    "client.bank": "банковские реквизиты клиента",
    "client.kpp": "КПП клиента", "client.ogrn": "ОГРН клиента",
    "site_id": "объект", "file": "файл",
}

TASK_STATE = {
    "open": "открыта", "done": "выполнена", "snoozed": "отложена", "cancelled": "отменена",
    "closed": "закрыта",
}

PRIORITY = {"low": "низкий", "normal": "обычный", "high": "высокий", "urgent": "срочно"}

FUNCTION_TITLES = {
    "contracts": "Договоры", "billing": "Биллинг", "field_ops": "Выезды",
    "logistics": "Логистика", "claims": "Претензии", "support": "Поддержка",
}

RUN_STATUS = {"running": "идёт", "finished": "готово", "interrupted": "прерван",
              "failed": "ошибка"}

STATEMENT_OUTCOME = {"matched": "разнесён", "unmatched": "не разнесён",
                     "overpaid": "переплата", "partial": "частично", "duplicate": "уже был",
                     "ours": "наш платёж", "skipped": "пропущен"}

PAYMENT_STATE = {"matched": "разнесён", "partly": "разнесён частично, остаток — аванс",
                 "unmatched": "не разнесён"}
"""A payment as the payments desk files it: ``partly`` is a known client's payment with money
left over (their advance)."""

PAYMENT_SOURCE = {"manual": "внесён вручную", "bank_statement": "из банковской выписки"}

MATCH_METHOD = {"invoice": "по счёту", "payer_inn": "по ИНН плательщика",
                "manual": "вручную", "client_credit": "аванс известного клиента",
                "invoice_number": "по номеру счёта в назначении",
                "exact_amount": "по ИНН и точной сумме счёта",
                "oldest_first": "по ИНН, старые счета первыми"}

_PAYMENT_NOTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text) for pattern, text in (
        (r"invoice is (\w+): the whole amount is held as the client's credit",
         "счёт уже закрыт — вся сумма остаётся авансом клиента"),
        (r"no client with this INN", "клиента с таким ИНН нет"),
        (r"several clients share this INN", "этот ИНН у нескольких клиентов"),
        (r"neither invoice_id nor payer_inn given", "не указаны ни счёт, ни ИНН плательщика"),
        (r"named but not open: (.+)", "названные счета уже закрыты: \\1"),
        (r"payer INN (\d+) differs from the named invoices' client",
         "ИНН плательщика \\1 не совпадает с ИНН клиента по счетам"),
        (r"no open invoice named in the purpose and no payer INN",
         "в назначении нет открытого счёта и нет ИНН плательщика"),
        (r"no open invoices for payer INN (\d+)", "у плательщика с ИНН \\1 нет открытых счетов"),
    ))


def payment_note(value: Any) -> str:
    """Billing's note on how a payment was (not) matched, in Russian, part by part."""
    out = []
    for part in ("" if value is None else str(value)).split("; "):
        for pattern, russian in _PAYMENT_NOTES:
            found = pattern.search(part)
            if found:
                part = found.expand(russian)
                break
        if part:
            out.append(part)
    return "; ".join(out)


def payment_state(p: Any) -> str:
    """``matched`` / ``partly`` / ``unmatched`` of a payment as billing lists it."""
    if p.get("status") == "unmatched":
        return "unmatched"
    try:
        left = Decimal(str(p.get("unallocated") or 0))
    except ArithmeticError:
        left = Decimal(0)
    return "partly" if left > 0 else "matched"


_TASK_OUTCOMES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text) for pattern, text in (
        (r"^paid$", "счёт оплачен"),
        (r"^cancelled by credit note (.+)$", "счёт аннулирован кредит-нотой \\1"),
        (r"^rejected: (.*)$", "отклонено: \\1"),
        (r"^approved$", "согласовано"), (r"^resolved$", "устранено"),
        (r"^failed$", "не выполнено"), (r"^completed$", "выполнено"),
        (r"^converted$", "пилот переведён в платный договор"),
        (r"^decided$", "решение принято"), (r"^terminated$", "договор расторгнут"),
        (r"^renewed$", "договор продлён"),
        (r"^training scheduled for (.+)$", "обучение назначено на \\1"),
    ))


def task_outcome(value: Any) -> str:
    """How a task ended, as notifications' rules record it, in Russian."""
    text = "" if value is None else str(value)
    for pattern, russian in _TASK_OUTCOMES:
        found = pattern.search(text)
        if found:
            return found.expand(russian)
    return text


PEOPLE_OUTSIDE = {
    "event:contracts": "по событию договоров", "event:field_ops": "по событию выездов",
    "scheduler": "по расписанию", "system": "система",
    # a function's shared queue: anyone of that function takes the task
    "queue:billing": "очередь расчётов с клиентами", "queue:field_ops": "очередь диспетчеров",
    "queue:support": "очередь техподдержки", "queue:contracts": "очередь договорного отдела",
    "queue:logistics": "очередь логистики", "queue:claims": "очередь юриста",
}
"""Who wrote a record when it was not a person."""

RENT_FORM = {"cash": "наличные", "cashless": "безнал"}

REGISTRY_STATE = {"draft": "черновик", "sent": "передан в бухгалтерию",
                  "reconciled": "сверен", "disputed": "расхождение"}

ROUTE_STATE = {"planned": "запланирован", "requested": "заявка на наличные",
               "permitted": "оплата разрешена", "closed": "закрыт"}

RECEIPT_KIND = {"receipt": "расписка", "cash_order": "приходный кассовый ордер",
                "check": "кассовый чек"}

PAYABLE_STATUS = {"received": "получен", "approved": "согласован",
                  "payment_requested": "заявка на оплату", "paid": "оплачен",
                  "rejected": "отклонён"}

PAYABLE_CATEGORY = {"equipment": "оборудование", "delivery": "доставка",
                    "contractor": "подрядчики", "rent": "аренда", "other": "прочее"}

PLANFACT_STATE = {"pending": "ждёт отправки", "synced": "в ПланФакте", "failed": "ошибка"}

AMENDMENT_KIND = {"fee_change": "изменение абонентской платы", "extension": "продление",
                  "suspension": "приостановка", "termination": "расторжение"}

AMENDMENT_STATUS = {"scheduled": "ждёт даты вступления", "applied": "вступило в силу",
                    "void": "не применено"}

CHANGE_REQUEST_KIND = {**AMENDMENT_KIND, "other": "другое"}

CHANGE_REQUEST_STATE = {"pending": "ждёт решения", "approved": "согласован",
                        "rejected": "отклонён"}

PILOT_OUTCOME = {"converted": "переведён в платный договор",
                 "success": "успешно: готовится платный договор",
                 "declined": "клиент отказался"}

DEAL_STAGE = {"new": "новая", "qualified": "квалифицирована", "proposal": "предложение",
              "won": "выиграна", "lost": "проиграна"}

FEEDBACK_KIND = {"feedback": "отзыв о работе", "wish": "пожелание",
                 "testimonial_request": "просьба о благодарственном письме",
                 "case_study": "материал для кейса"}

CHANNEL = {"call": "звонок", "email": "письмо", "meeting": "встреча", "visit": "визит",
           "messenger": "мессенджер"}


# --- the services' 422 messages in Russian ---------------------------------------------------

_BY_TYPE = {
    "missing": "Обязательное поле.",
    "string_too_short": "Заполните поле.",
    "string_too_long": "Слишком длинное значение.",
    "int_parsing": "Введите целое число.",
    "int_type": "Введите целое число.",
    "decimal_parsing": "Введите число.",
    "float_parsing": "Введите число.",
    "date_parsing": "Введите дату.",
    "date_from_datetime_parsing": "Введите дату.",
    "date_type": "Введите дату.",
    "enum": "Выберите значение из списка.",
    "literal_error": "Выберите значение из списка.",
    "uuid_parsing": "Неверный идентификатор.",
    "extra_forbidden": "Это поле здесь не принимается.",
}

_BY_TEXT: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), text) for pattern, text in (
        (r"not a valid email address|valid email", "Неверный адрес e-mail."),
        (r"INN must be 10 digits", "ИНН: 10 цифр у организации или 12 у ИП."),
        (r"INN .*invalid checksum", "Неверный ИНН: не сходится контрольная цифра."),
        (r"INN .*invalid number", "Неверный ИНН."),
        (r"KPP must be 9", "КПП: 9 знаков (цифры, в 5–6 позиции могут быть латинские буквы)."),
        (r"OGRN .*invalid checksum", "Неверный ОГРН: не сходится контрольная цифра."),
        (r"OGRNIP .*must start", "ОГРНИП начинается с 3 или 4."),
        (r"OGRN .*must not start", "ОГРН не может начинаться с 0."),
        (r"correspondent account .*does not match BIK",
         "Корреспондентский счёт не соответствует БИК."),
        (r"account .*does not match BIK", "Расчётный счёт не соответствует БИК."),
        (r"not a (valid )?phone number", "Неверный номер телефона."),
        (r"sole trader .*has no KPP", "У ИП (ИНН из 12 цифр) нет КПП."),
        (r"cannot be changed here", "Это поле здесь не меняется."),
        (r"not a decimal amount|decimal string", "Введите сумму, например 12 500,00."),
        (r"more than two decimal places", "Не больше двух знаков после запятой."),
        (r"amount is too large", "Слишком большая сумма: не больше 9 999 999 999,99 ₽."),
        (r"only rent .* may be in cash", "Наличными платится только аренда (владельцу "
                                          "площадки); для абонентского договора — безнал."),
        # the services' refusals (409) that reach a page as a whole-form message
        (r"a client with INN (\d+) is already registered",
         "Клиент с ИНН \\1 уже есть — найдите его на странице «Договоры»."),
        (r"the invoice already matches the contract's terms",
         "Счёт уже соответствует условиям договора; чтобы исправить вручную, укажите сумму."),
        (r"this invoice was already replaced", "Этот счёт уже заменён новой редакцией."),
        (r"a credit note is not corrected", "Кредит-ноту не исправляют — исправьте сам счёт."),
        (r"the invoice is not open", "Счёт уже оплачен или аннулирован."),
        (r"the invoice was corrected concurrently", "Счёт только что исправили — обновите "
                                                   "страницу и повторите."),
        (r"this payment is fully allocated", "Платёж уже разнесён полностью."),
        (r"the payment already belongs to another client",
         "Платёж уже отнесён к другому клиенту."),
        (r"rent agreement .* already exists", "Договор аренды с таким номером уже есть."),
        (r"a route named .* exists", "Маршрут с таким названием уже есть."),
        (r"must be approved by the head before signing",
         "Нестандартный договор подписывают после согласования руководителем — отправьте "
         "его на согласование."),
        (r"signed after the head approves it", "Нестандартный договор подписывают после "
                                               "согласования руководителем."),
        (r"the site belongs to another client", "Объект принадлежит другому клиенту."),
        (r"the contract belongs to another client", "Договор принадлежит другому клиенту."),
        (r"is entered already", "Этот счёт поставщика уже внесён."),
        (r"cannot (\w+(?: \w+)*) a contract in state (\w+)",
         "Действие недоступно для договора в этом состоянии."),
        (r"amount must not be negative|must not be negative",
         "Сумма не может быть отрицательной."),
        (r"greater than zero", "Сумма должна быть больше нуля."),
        (r"cashless rent needs the owner", "Для безнала нужны расчётный счёт и БИК владельца."),
        (r"bank account is not on file", "У владельца не указан расчётный счёт — безнал "
                                          "невозможен."),
        (r"cannot end before it starts", "Договор не может закончиться раньше, чем начался."),
        (r"no terms in force", "На эту дату у договора ещё нет условий."),
        (r"the agreement starts on (\d{4})-(\d{2})-(\d{2})",
         "Договор начинается \\3.\\2.\\1 — изменение не может быть раньше."),
        (r"VAT cannot exceed", "НДС не может быть больше суммы счёта."),
        (r"cannot be due before it was issued", "Срок оплаты не может быть раньше даты счёта."),
        (r"unknown rent agreements", "Таких договоров аренды нет."),
        (r"a site appears twice", "Объект указан в маршруте дважды."),
        (r"period must look like", "Период — месяц в виде ГГГГ-ММ."),
        # contracts' amendments, change requests, pilots and deals
        (r"takes effect no earlier than (\d{4})-(\d{2})-(\d{2}).*notified on "
         r"(\d{4})-(\d{2})-(\d{2}).* (\d+) days' notice",
         "Новая плата действует не раньше \\3.\\2.\\1: клиента уведомили \\6.\\5.\\4, "
         "срок уведомления по договору, дней: \\7."),
        (r"a fee change (request )?names the new fee", "Укажите новую плату."),
        (r"an extension request names the new end date", "Укажите новую дату окончания."),
        (r"an extension moves the end date later than (\d{4})-(\d{2})-(\d{2})",
         "Новая дата окончания должна быть позже \\3.\\2.\\1."),
        (r"an open-ended contract has nothing to extend",
         "У бессрочного договора нет даты окончания — продлевать нечего."),
        (r"resumes after the suspension begins",
         "Дата возобновления должна быть позже начала приостановки."),
        (r"would take effect before the contract starts \((\d{4})-(\d{2})-(\d{2})\)",
         "Договор начинается \\3.\\2.\\1 — изменение не может вступить в силу раньше."),
        (r"the contract ends on (\d{4})-(\d{2})-(\d{2}), before the amendment",
         "Договор заканчивается \\3.\\2.\\1 — раньше, чем изменение вступит в силу."),
        (r"is to be terminated on (\d{4})-(\d{2})-(\d{2})",
         "Договор уже расторгается с \\3.\\2.\\1 — других изменений не принимает."),
        (r"a suspension of the contract .* is already scheduled",
         "Приостановка договора уже запланирована."),
        (r"the suspension began on (\d{4})-(\d{2})-(\d{2})",
         "Приостановка началась \\3.\\2.\\1 — возобновить можно не раньше."),
        (r"takes no change requests", "Запрос на изменение принимается только по "
                                      "действующему договору."),
        (r"the request was already (approved|rejected)", "По запросу уже принято решение."),
        (r"a rejection states its reason", "Укажите причину отказа."),
        (r"only a pilot (has an outcome|is converted)", "Это не пилотный договор."),
        (r"the pilot was already converted|the pilot's outcome is already",
         "Итог пилота уже записан."),
        (r"a pilot is converted by signing its paid contract",
         "Перевод в платный договор оформляется формой «Перевести в платный договор»."),
        (r"the pilot cannot end before it starts", "Пилот не может закончиться раньше, чем "
                                                  "начался."),
        (r"a pilot converts into a paid contract", "Пилот переводится в платный договор, а не "
                                                   "в новый пилот."),
        (r"the new contract needs a start date", "Укажите дату начала нового договора."),
        (r"was already replaced", "Этот договор уже перезаключён."),
        (r"a contract in state \w+ cannot be replaced", "Перезаключить можно только "
                                                        "действующий или истёкший договор."),
        (r"cannot move a deal in stage", "Сделка уже на этой стадии или закрыта."),
        (r"the deal is closed", "Сделка закрыта — передавать её некому."),
        (r"a deal handed to sales names the sales manager", "Выберите менеджера из списка."),
        (r"the contract would be signed after it ends", "Дата подписания позже окончания "
                                                         "договора."),
        (r"a pilot has an end date", "У пилота должна быть дата окончания."),
        (r"must be (\d+) or (\d+) digits", "Нужно \\1 или \\2 цифр."),
        (r"must be (\d+) digits", "Нужно \\1 цифр."),
    ))

_PATTERN_DIGITS = re.compile(r"\^\\d\{(\d+)\}\$")
_PATTERN_EITHER = re.compile(r"\(\\d\{(\d+)\}\|\\d\{(\d+)\}\)")
_BOUND = re.compile(r"(-?\d+(?:\.\d+)?)")


def field_message(kind: str, message: str) -> str:
    """One of the services' field messages (pydantic's or a rule's, in English) as the
    pages say it; a message nobody translated yet is shown as the service wrote it."""
    text = message.removeprefix("Value error, ")
    for pattern, russian in _BY_TEXT:
        found = pattern.search(text)
        if found:
            return found.expand(russian)
    if kind == "string_pattern_mismatch":
        either = _PATTERN_EITHER.search(text)
        if either:
            return f"Нужно {either.group(1)} или {either.group(2)} цифр."
        digits = _PATTERN_DIGITS.search(text)
        return f"Нужно {digits.group(1)} цифр." if digits else "Неверный формат."
    bound = _BOUND.search(text)
    if kind == "string_too_short" and bound and int(float(bound.group(1))) > 1:
        return f"Не короче {bound.group(1)} символов."
    if kind == "string_too_long" and bound:
        return f"Не длиннее {bound.group(1)} символов."
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than") and bound:
        word = {"greater_than_equal": "не меньше", "greater_than": "больше",
                "less_than_equal": "не больше", "less_than": "меньше"}[kind]
        return f"Значение должно быть {word} {bound.group(1)}."
    return _BY_TYPE.get(kind, text)


def _parse(value: Any) -> date | datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime | date):
        return value
    text = str(value)
    try:
        if len(text) <= 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def moscow(value: datetime) -> datetime:
    return value.astimezone(MOSCOW) if value.tzinfo else value


def ru_date(value: Any) -> str:
    """``15.12.2026``; a moment is shown as its Moscow date."""
    parsed = _parse(value)
    if parsed is None:
        return "—" if value in (None, "") else str(value)
    if isinstance(parsed, datetime):
        parsed = moscow(parsed).date()
    return parsed.strftime("%d.%m.%Y")


def ru_datetime(value: Any) -> str:
    """``15.12.2026 14:30`` in Moscow time."""
    parsed = _parse(value)
    if parsed is None:
        return "—" if value in (None, "") else str(value)
    if not isinstance(parsed, datetime):
        return parsed.strftime("%d.%m.%Y")
    return moscow(parsed).strftime("%d.%m.%Y %H:%M")


def money(value: Any, currency: bool = True) -> str:
    """``12 345,67 ₽`` (non-breaking spaces, so an amount never wraps)."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    sign = "-" if amount < 0 else ""
    whole, _, cents = f"{abs(amount):.2f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = f"{sign}{NBSP.join(groups)},{cents}"
    return f"{text}{NBSP}₽" if currency else text


def ru_period(value: Any) -> str:
    """``2026-12`` -> ``декабрь 2026``."""
    text = str(value or "")
    try:
        year, month = text.split("-")[:2]
        return f"{MONTHS[int(month) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return text


def phone(value: Any) -> str:
    """``+74951234567`` (E.164, as the services keep it) -> ``+7 (495) 123-45-67``."""
    if value is None or value == "":
        return ""
    text = str(value)
    digits = re.sub(r"\D", "", text)
    if text.startswith("+7") and len(digits) == 11:
        d = digits[1:]
        return f"+7{NBSP}({d[:3]}){NBSP}{d[3:6]}-{d[6:8]}-{d[8:]}"
    return text


def label(mapping: dict[str, str]) -> Any:
    def lookup(value: Any) -> str:
        if value is None:
            return "—"
        return mapping.get(str(value), str(value))
    return lookup


FILTERS = {
    "ru_date": ru_date,
    "ru_datetime": ru_datetime,
    "money": money,
    "ru_period": ru_period,
    "role_title": label(ROLE_TITLES),
    "contract_status": label(CONTRACT_STATUS),
    "contract_kind": label(CONTRACT_KIND),
    "invoice_status": label(INVOICE_STATUS),
    "task_state": label(TASK_STATE),
    "function_title": label(FUNCTION_TITLES),
    "priority": label(PRIORITY),
    "subscription_status": label(SUBSCRIPTION_STATUS),
    "claim_stage": label(CLAIM_STAGE),
    "field_title": label(FIELD_TITLES),
    "rent_form": label(RENT_FORM),
    "registry_state": label(REGISTRY_STATE),
    "route_state": label(ROUTE_STATE),
    "receipt_kind": label(RECEIPT_KIND),
    "payable_status": label(PAYABLE_STATUS),
    "payable_category": label(PAYABLE_CATEGORY),
    "planfact_state": label(PLANFACT_STATE),
    "amendment_kind": label(AMENDMENT_KIND),
    "amendment_status": label(AMENDMENT_STATUS),
    "change_request_kind": label(CHANGE_REQUEST_KIND),
    "change_request_state": label(CHANGE_REQUEST_STATE),
    "pilot_outcome": label(PILOT_OUTCOME),
    "deal_stage": label(DEAL_STAGE),
    "feedback_kind": label(FEEDBACK_KIND),
    "channel": label(CHANNEL),
    "run_status": label(RUN_STATUS),
    "statement_outcome": label(STATEMENT_OUTCOME),
    "payment_state": label(PAYMENT_STATE),
    "payment_source": label(PAYMENT_SOURCE),
    "match_method": label(MATCH_METHOD),
    "payment_note": payment_note,
    "task_outcome": task_outcome,
    "phone": phone,
}
