"""One line of Russian per event for the client's timeline (the view across all services)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from notifications.domain.mail_templates import (
    MailTemplateError,
    format_date,
    format_datetime,
    format_money,
    format_period,
)

SUMMARIES: Mapping[str, str] = {
    "contracts.client.registered": "Клиент зарегистрирован: {name} (ИНН {inn})",
    "contracts.client.updated": "Изменены реквизиты клиента",
    "contracts.client.reassigned": "Клиент передан менеджеру {manager}",
    "contracts.contract.submitted_for_approval": "Договор № {number} отправлен на согласование",
    "contracts.contract.approved": "Договор № {number} согласован ({decided_by})",
    "contracts.contract.rejected": "Договор № {number} отклонён ({decided_by})",
    "contracts.contract.signed": ("Подписан договор № {number}, абонентская плата "
                                  "{monthly_fee} с {starts_on}"),
    "contracts.contract.amended": "Изменение договора № {number} с {effective_on}",
    "contracts.contract.suspended": "Договор № {number} приостановлен с {effective_on}",
    "contracts.contract.resumed": "Договор № {number} возобновлён с {effective_on}",
    "contracts.contract.terminated": "Договор № {number} расторгнут с {effective_on}",
    "contracts.contract.renewed": "Договор № {number} продлён до {ends_on}",
    "contracts.contract.expiring": "Договор № {number} истекает {ends_on}",
    "contracts.claim.opened": "Претензия: {subject}",
    "contracts.claim.stage_changed": "Претензия: стадия «{stage}»",
    "contracts.pilot.converted": "Пилот № {number} переведён в платный договор",
    "billing.subscription.opened": "Начато выставление абонентской платы {monthly_fee} с "
                                   "{starts_on}",
    "billing.invoice.issued": "Выставлен счёт № {number} на {total} за {period}",
    "billing.invoice.resent": "Счёт № {number} отправлен повторно",
    "billing.invoice.overdue": "Счёт № {number} не оплачен, просрочка {days_overdue} дн.",
    "billing.payment.received": "Поступила оплата {amount} ({reference})",
    "billing.invoice.paid": "Счёт № {number} оплачен {paid_on}",
    "field_ops.work_order.created": "Заявка на работы: {kind_label}",
    "field_ops.work_order.approved": "Заявка подписана, № {journal_no} в журнале",
    "field_ops.work_order.rejected": "Заявка отклонена: {reason}",
    "field_ops.work_order.cancelled": "Заявка отменена: {reason}",
    "field_ops.work_order.scheduled": "Назначен выезд {visit_on} {window}",
    "field_ops.work_order.problem_reported": "Проблема на объекте: {description}",
    "field_ops.work_order.problem_decided": "Решение по проблеме: {decision}",
    "field_ops.work_order.completed": "Заявка выполнена {completed_on}",
    "field_ops.work_order.failed": "Работы не выполнены: {reason}",
    "field_ops.equipment.installed": "Оборудование установлено {installed_on}",
    "field_ops.equipment.removed": "Оборудование снято {installed_on}",
    "field_ops.visit.sla_breached": "Нарушен срок аварийного выезда (до {due_by})",
    "field_ops.downtime.started": "Простой оборудования с {started_at}",
    "field_ops.downtime.resolved": "Простой устранён",
    "field_ops.downtime.escalated": "Простой больше суток: сообщено руководителю",
    "field_ops.parts.requested": "Заказаны детали для заявки",
    "field_ops.training.scheduled": "Обучение назначено на {starts_at}",
    "field_ops.training.completed": "Обучение проведено",
    "field_ops.cloud_tenant.provisioned": "Создано облако {url}",
    "logistics.shipment.planned": "Запланирована отгрузка {number}",
    "logistics.shipment.dispatched": "Отгрузка {number} передана перевозчику {shipped_on}",
    "logistics.shipment.delivered": "Отгрузка доставлена {delivered_on}",
    "logistics.originals.reminder_due": "Напоминание о возврате оригиналов по журналу "
                                        "{journal_number} (срок {due_on})",
    "logistics.originals.overdue": "Не возвращены оригиналы документов (срок {due_on})",
    "logistics.originals.returned": "Оригиналы документов возвращены {returned_on}",
    "logistics.closing_docs.unsigned": "Закрывающие документы № {number} не подписаны "
                                       "(отправлены {sent_on})",
    "notifications.request.registered": "Обращение № {number} ({channel_label}, "
                                        "{kind_label}): {subject}",
    "notifications.request.answered": "Дан ответ на обращение № {number}: {answer}",
    "logistics.closing_docs.signed": "Закрывающие документы подписаны {signed_on}",
}


WORK_ORDER_KINDS = {"install": "установка", "remove": "снятие", "repair": "ремонт",
                    "reinforce": "укрепление", "replace": "замена", "repaint": "покраска",
                    "maintenance": "обслуживание", "emergency": "аварийный выезд"}
CLAIM_STAGES = {"received": "получена", "answered": "дан ответ", "negotiation": "переговоры",
                "court": "суд", "resolved": "урегулирована", "lost": "проиграна"}
MONEY_FIELDS = frozenset({"monthly_fee", "total", "amount", "outstanding"})
WORDS: Mapping[str, Mapping[str, str]] = {"kind": WORK_ORDER_KINDS, "stage": CLAIM_STAGES}


def _shown(key: str, value: Any) -> str:
    """A payload value as people read it: amounts «18 300,00 ₽», dates «01.12.2026»."""
    if value is None:
        return ""
    formats: dict[str, Callable[[Any], str]] = {"period": format_period}
    try:
        if key in MONEY_FIELDS:
            return format_money(value)
        if key in formats:
            return formats[key](value)
        if key.endswith("_on") or key == "due_by":
            return format_date(value)
        if key.endswith("_at"):
            return format_datetime(value)
    except MailTemplateError:
        return str(value)
    return WORDS.get(key, {}).get(str(value), str(value))


def summarize(event_type: str, payload: Mapping[str, Any]) -> str:
    template = SUMMARIES.get(event_type)
    if template is None:
        return "Событие в другой службе"
    try:
        return template.format_map({k: _shown(k, v) for k, v in payload.items()})
    except (KeyError, IndexError, ValueError):
        return "Событие в другой службе"
