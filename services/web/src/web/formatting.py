"""How the pages write dates, amounts and names: Russian conventions, Moscow time."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

MOSCOW = ZoneInfo("Europe/Moscow")
NBSP = "\u00a0"

MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
          "сентябрь", "октябрь", "ноябрь", "декабрь")

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
}
