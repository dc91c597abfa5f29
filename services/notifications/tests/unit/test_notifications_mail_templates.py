"""Russian mail templates, their number and date formats, and the MIME messages built from them."""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from notifications.adapters.mailer import (
    Attachment,
    FakeMailer,
    MailDeliveryError,
    OutgoingMail,
    build_message,
)
from notifications.domain.mail_templates import (
    TEMPLATE_NAMES,
    MailTemplateError,
    format_date,
    format_datetime,
    format_money,
    format_period,
    render_mail,
)
from notifications.domain.model import Function, Priority, Task, TaskAction
from notifications.domain.rules import PlanContext, WorkingCalendar, plan
from notifications.domain.workload import daily_digest

pytestmark = pytest.mark.unit

MSK = ZoneInfo("Europe/Moscow")
UTC = ZoneInfo("UTC")
NOW = datetime(2026, 12, 21, 10, 0, tzinfo=MSK)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("12345.67"), "12 345,67 ₽"),
        ("15250.00", "15 250,00 ₽"),
        ("1000000", "1 000 000,00 ₽"),
        (0, "0,00 ₽"),
        (999, "999,00 ₽"),
        (Decimal("-1500.5"), "-1 500,50 ₽"),
        ("999.995", "1 000,00 ₽"),  # half-up, as billing rounds
        (" 42.1 ", "42,10 ₽"),
    ],
)
def test_money_reads_the_russian_way(value: Any, text: str) -> None:
    assert format_money(value) == text


@pytest.mark.parametrize("value", [12.5, True, "двенадцать", "NaN", None])
def test_money_refuses_floats_and_junk(value: Any) -> None:
    with pytest.raises(MailTemplateError):
        format_money(value)


def test_dates_and_times_read_in_moscow() -> None:
    assert format_date(date(2026, 12, 15)) == "15.12.2026"
    assert format_date("2026-12-15") == "15.12.2026"
    # 22:00 UTC on the 14th is already the 15th in Moscow
    assert format_date(datetime(2026, 12, 14, 22, 0, tzinfo=UTC)) == "15.12.2026"
    assert format_date("2026-12-14T22:00:00+00:00") == "15.12.2026"
    assert format_datetime("2026-12-23T07:00:00+00:00") == "23.12.2026 10:00"
    assert format_datetime(datetime(2026, 12, 23, 10, 5)) == "23.12.2026 10:05"  # naive = Moscow
    assert format_period("2026-12") == "декабрь 2026"
    assert format_period("2027-05") == "май 2027"
    with pytest.raises(MailTemplateError):
        format_date("15/12/2026")
    with pytest.raises(MailTemplateError):
        format_period("2026-13")


def test_every_template_has_a_text_and_an_html_part() -> None:
    folder = resources.files("notifications").joinpath("templates/mail")
    names = {entry.name for entry in folder.iterdir()}
    for name in TEMPLATE_NAMES:
        assert {f"{name}.txt", f"{name}.html"} <= names, name


INVOICE = {
    "client_name": "ООО «Ромашка»",
    "number": "2026-12-0001",
    "period": "2026-12",
    "total": "15250.00",
    "due_on": "2026-12-20",
}


def test_invoice_issued() -> None:
    subject, text, html = render_mail("invoice_issued", **INVOICE)
    assert subject == "Счёт № 2026-12-0001 за декабрь 2026"
    assert text.startswith("Здравствуйте, ООО «Ромашка»!\n")
    assert "Сумма к оплате: 15 250,00 ₽." in text
    assert "Срок оплаты: до 20.12.2026." in text
    assert "PDF" in text
    assert '<html lang="ru">' in html and "15 250,00 ₽" in html and "20.12.2026" in html


def test_invoice_issued_partly_paid_from_the_advance_asks_for_the_rest_only() -> None:
    _, text, html = render_mail("invoice_issued", **INVOICE, paid_from_advance="2550.00")
    assert "Сумма счёта: 15 250,00 ₽." in text
    assert "Оплачено из вашего аванса: 2 550,00 ₽." in text
    assert "Осталось оплатить: 12 700,00 ₽." in text and "Срок оплаты: до 20.12.2026." in text
    assert "Сумма к оплате" not in text
    assert "12 700,00 ₽" in html and "Сумма к оплате" not in html
    assert "\n\nСчёт приложен" in text


def test_invoice_issued_wholly_paid_from_the_advance_asks_for_nothing() -> None:
    _, text, html = render_mail("invoice_issued", **INVOICE, paid_from_advance="15250.00")
    assert "Счёт оплачен полностью, платить ничего не нужно." in text
    assert "Осталось оплатить" not in text and "Срок оплаты" not in text
    assert "платить ничего не нужно" in html


def test_invoice_resent_says_it_is_a_copy() -> None:
    subject, text, _ = render_mail("invoice_resent", **INVOICE)
    assert subject == "Повторно: счёт № 2026-12-0001 за декабрь 2026"
    assert "Повторно направляем счёт № 2026-12-0001" in text


def test_html_is_escaped_but_text_is_not() -> None:
    _, text, html = render_mail("invoice_issued", **{**INVOICE, "client_name": "ИП <Иванов> & Co"})
    assert "ИП <Иванов> & Co" in text
    assert "ИП &lt;Иванов&gt; &amp; Co" in html and "<Иванов>" not in html


def test_training_invitation_with_and_without_a_link() -> None:
    subject, text, html = render_mail(
        "training_invitation",
        client_name="ООО Ромашка",
        starts_at="2026-12-22T07:00:00+00:00",
        meeting_url="https://meet.example/abc",
        topic="работа с облаком",
        duration_minutes=60,
    )
    assert subject == "Приглашение на обучение 22.12.2026 10:00"
    assert "по теме «работа с облаком»" in text and "продолжительность 60 мин." in text
    assert "Ссылка для подключения: https://meet.example/abc" in text
    assert 'href="https://meet.example/abc"' in html
    _, bare, _ = render_mail(
        "training_invitation", client_name="ООО", starts_at=datetime(2026, 12, 22, 10, tzinfo=MSK)
    )
    assert "Ссылка" not in bare and "(московское время)." in bare


def test_cloud_credentials_show_a_password_only_when_there_is_one() -> None:
    base = {"client_name": "ООО Ромашка", "url": "https://romashka.pass24.online", "login": "admin"}
    subject, text, _ = render_mail("cloud_credentials", **base, password="Xy7-secret")
    assert subject == "Доступ к вашему облаку https://romashka.pass24.online"
    assert "Логин: admin" in text and "Пароль: Xy7-secret" in text
    _, link, _ = render_mail("cloud_credentials", **base, setup_url="https://x/set-once")
    assert "Задайте пароль по ссылке" in link and "Пароль:" not in link
    _, neither, html = render_mail("cloud_credentials", **base)
    assert "сообщит ваш менеджер по телефону" in neither and "Пароль:" not in html


def test_visit_confirmation_in_moscow_time() -> None:
    subject, text, _ = render_mail(
        "visit_confirmation",
        client_name="ООО Ромашка",
        scheduled_for="2026-12-23T07:00:00+00:00",
        site_address="Москва, ул. Лесная, 5",
    )
    assert subject == "Подтверждение выезда техника 23.12.2026"
    assert "Дата и время: 23.12.2026 10:00 (московское время)." in text
    assert "по адресу: Москва, ул. Лесная, 5" in text


def test_renewal_notice_auto_and_manual() -> None:
    base = {"client_name": "ООО Ромашка", "number": "Д-17", "ends_on": "2027-01-31"}
    subject, text, _ = render_mail("renewal_notice", **base, auto_renew=True)
    assert subject == "Продление договора № Д-17"
    assert "продлевается автоматически" in text and "31.01.2027" in text
    subject, text, _ = render_mail("renewal_notice", **base, auto_renew=False)
    assert subject == "Срок договора № Д-17 истекает 31.01.2027"
    assert "перезаключить" in text


def test_escalation_mail_from_a_planned_escalation() -> None:
    payload = {"work_order_id": "wo-5", "client_id": "c-1", "due_by": "2026-12-18T15:00:00+00:00"}
    context = PlanContext(now=NOW, head="head", client_name="ООО Ромашка")
    (escalation,) = plan("field_ops.visit.sla_breached", payload, context).escalations
    subject, text, html = render_mail("escalation", **escalation.mail().context)
    assert subject.startswith("Эскалация (выезды и оборудование): Нарушен срок аварийного выезда")
    assert "Требуется ваше решение." in text
    assert "Разобраться до: 21.12.2026 14:00" in text
    assert "ООО Ромашка" in html


def test_long_escalation_subjects_are_cut() -> None:
    subject, _, _ = render_mail(
        "escalation",
        reason="Очень длинная причина " * 20,
        function="billing",
        source="task.overdue",
        raised_at=NOW,
        due_at=NOW,
    )
    assert len(subject) < 130 and subject.endswith("…")


def test_daily_digest_from_the_workload_digest() -> None:
    def task(n: int, due: datetime, priority: Priority = Priority.NORMAL) -> Task:
        return Task(
            id=UUID(int=n),
            kind="payment_reminder",
            action=TaskAction.CALL,
            function=Function.BILLING,
            title=f"Напомнить об оплате счёта № {n}",
            assignee="ivanov",
            due_at=due,
            created_at=datetime(2026, 12, 18, 9, tzinfo=MSK),
            priority=priority,
        )

    tasks = [
        task(1, datetime(2026, 12, 18, 18, tzinfo=MSK), Priority.URGENT),
        task(2, datetime(2026, 12, 21, 18, tzinfo=MSK)),
        task(3, datetime(2026, 12, 21, 12, tzinfo=MSK), Priority.HIGH),
    ]
    digest = daily_digest("ivanov", tasks, datetime(2026, 12, 21, 8, tzinfo=MSK), WorkingCalendar())
    subject, text, html = render_mail("daily_digest", **digest.mail_context())
    assert subject == "Задачи на 21.12.2026: просрочено 1, на сегодня 2"
    assert "Просрочено (1):\n  - Напомнить об оплате счёта № 1 — срок был 18.12.2026 18:00" in text
    assert "[срочно]" in text
    lines = text.splitlines()
    today = lines.index("На сегодня (2):")
    assert lines[today + 1] == "  - Напомнить об оплате счёта № 3 — до 21.12.2026 12:00 [важно]"
    assert lines[today + 2] == "  - Напомнить об оплате счёта № 2 — до 21.12.2026 18:00"
    assert "<li>" in html
    _, empty, _ = render_mail(
        "daily_digest", person="petrova", day=date(2026, 12, 21), overdue=[], due_today=[],
        later=[], done_yesterday=0,
    )  # fmt: skip
    assert "Открытых задач нет." in empty


def test_every_mail_rule_renders_from_its_planned_context() -> None:
    context = PlanContext(
        now=NOW, head="head", client_manager="ivanov", client_name="ООО Ромашка",
        client_email="office@romashka.ru",
    )  # fmt: skip
    events = {
        "billing.invoice.issued": {
            **{k: v for k, v in INVOICE.items() if k != "client_name"},
            "invoice_id": "inv-1", "client_id": "c-1", "contract_id": "k-1",
            "email": "buh@romashka.ru",
        },
        "contracts.contract.expiring": {
            "contract_id": "k-1", "number": "Д-17", "client_id": "c-1", "ends_on": "2027-01-31",
            "threshold_days": 30, "auto_renew": True, "manager": "ivanov",
        },
        "field_ops.work_order.scheduled": {
            "work_order_id": "wo-1", "client_id": "c-1",
            "scheduled_for": "2026-12-23T07:00:00+00:00",
        },
        "field_ops.cloud_tenant.provisioned": {
            "client_id": "c-1", "url": "https://romashka.pass24.online", "login": "admin",
        },
    }  # fmt: skip
    rendered = {}
    for event_type, payload in events.items():
        (mail,) = plan(event_type, payload, context).mails
        rendered[mail.template] = render_mail(mail.template, **mail.context)
    assert set(rendered) == {
        "invoice_issued",
        "renewal_notice",
        "visit_confirmation",
        "cloud_credentials",
    }
    for subject, text, _ in rendered.values():
        assert subject and "ООО Ромашка" in text


def test_unknown_template_and_missing_context_are_clear_errors() -> None:
    with pytest.raises(MailTemplateError, match="unknown mail template 'invoice_paid'"):
        render_mail("invoice_paid")
    with pytest.raises(MailTemplateError, match=r"'invoice_issued'.*'due_on' is undefined"):
        render_mail("invoice_issued", **{k: v for k, v in INVOICE.items() if k != "due_on"})


# --- the MIME message and the fake mailer ----------------------------------------------------


def _invoice_mail() -> OutgoingMail:
    subject, text, html = render_mail("invoice_issued", **INVOICE)
    pdf = b"%PDF-1.4\n% test invoice\n%%EOF\n"
    return OutgoingMail(
        to=("buh@romashka.ru",),
        subject=subject,
        text=text,
        html=html,
        attachments=(Attachment("Счёт 2026-12-0001.pdf", "application/pdf", pdf),),
    )


def test_built_message_round_trips_russian_subject_body_and_attachment() -> None:
    message = build_message(_invoice_mail(), "billing@clientops.example")
    raw = message.as_bytes()
    assert "Счёт".encode() not in raw.split(b"\r\n\r\n", 1)[0]  # headers are RFC 2047 encoded
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Счёт № 2026-12-0001 за декабрь 2026"
    assert parsed["From"] == "billing@clientops.example"
    assert parsed["Message-ID"].endswith("@clientops.example>")
    body = parsed.get_body(("plain",))
    assert body is not None and "15 250,00 ₽" in body.get_content()
    html = parsed.get_body(("html",))
    assert html is not None and '<html lang="ru">' in html.get_content()
    (attachment,) = parsed.iter_attachments()
    assert attachment.get_filename() == "Счёт 2026-12-0001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == b"%PDF-1.4\n% test invoice\n%%EOF\n"


def test_mail_needs_a_recipient_and_a_real_content_type() -> None:
    with pytest.raises(ValueError, match="recipient"):
        OutgoingMail(to=(), subject="s", text="t")
    with pytest.raises(ValueError, match="maintype/subtype"):
        Attachment("a.pdf", "pdf", b"")


async def test_fake_mailer_records_and_can_fail_on_demand() -> None:
    mailer = FakeMailer()
    mailer.fail_next(MailDeliveryError("SMTP server unreachable", retryable=True))
    with pytest.raises(MailDeliveryError) as err:
        await mailer.send(_invoice_mail())
    assert err.value.retryable and mailer.sent == []
    message_id = await mailer.send(_invoice_mail())
    assert mailer.subjects() == ["Счёт № 2026-12-0001 за декабрь 2026"]
    assert mailer.sent[0]["Message-ID"] == message_id


def test_escalation_mail_shows_no_raw_codes_or_ids() -> None:
    """Issue 13 §5: a function code the labels do not know and a client known only by id
    never reach the head's mail as they are."""
    client_id = "4a1b2c3d-0000-4000-8000-000000000001"
    subject, text, html = render_mail(
        "escalation", reason="Счёт не оплачен", function="sales_ops", source="task.overdue",
        raised_at=NOW, due_at=NOW, client_id=client_id,
    )  # fmt: skip
    for part in (subject, text, html):
        assert "sales_ops" not in part and client_id not in part
    assert "Направление: другое" in text
