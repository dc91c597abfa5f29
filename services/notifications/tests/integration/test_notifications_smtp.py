"""SmtpMailer against a real SMTP server (aiosmtpd) on 127.0.0.1, started inside the test."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from notifications.adapters.mailer import Attachment, MailDeliveryError, OutgoingMail, SmtpMailer
from notifications.domain.mail_templates import render_mail

pytestmark = pytest.mark.integration

SENDER = "billing@clientops.example"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) + b"\n%%EOF\n"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """aiosmtpd handler: keeps what arrives; refuses mailboxes named refuse-<code>@…"""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.startswith("refuse-"):
            code = address.split("@")[0].removeprefix("refuse-")
            return f"{code} mailbox refused for the test"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def invoice_mail(*to: str) -> OutgoingMail:
    subject, text, html = render_mail(
        "invoice_issued",
        client_name="ООО «Ромашка»",
        number="2026-12-0001",
        period="2026-12",
        total="15250.00",
        due_on="2026-12-20",
    )
    return OutgoingMail(
        to=to,
        subject=subject,
        text=text,
        html=html,
        attachments=(Attachment("Счёт 2026-12-0001.pdf", "application/pdf", PDF),),
    )


async def test_invoice_email_with_pdf_arrives_intact(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    mailer = SmtpMailer("127.0.0.1", port, SENDER, timeout=10)

    message_id = await mailer.send(invoice_mail("buh@romashka.ru"))

    ((mail_from, rcpt_tos, message),) = inbox.received
    assert (mail_from, rcpt_tos) == (SENDER, ["buh@romashka.ru"])
    assert message["Message-ID"] == message_id
    assert message["Subject"] == "Счёт № 2026-12-0001 за декабрь 2026"
    assert message["To"] == "buh@romashka.ru"
    text = message.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert body.startswith("Здравствуйте, ООО «Ромашка»!")
    assert "Сумма к оплате: 15 250,00 ₽." in body and "до 20.12.2026" in body
    html = message.get_body(("html",))
    assert html is not None and "15 250,00 ₽" in html.get_content()
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "Счёт 2026-12-0001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


async def test_closed_port_is_a_retryable_delivery_error() -> None:
    mailer = SmtpMailer("127.0.0.1", free_port(), SENDER, timeout=5)
    with pytest.raises(MailDeliveryError) as err:
        await mailer.send(invoice_mail("buh@romashka.ru"))
    assert err.value.retryable
    assert "unreachable" in str(err.value)


async def test_permanent_refusal_is_not_retried(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    mailer = SmtpMailer("127.0.0.1", port, SENDER, timeout=10)
    with pytest.raises(MailDeliveryError) as err:
        await mailer.send(invoice_mail("refuse-550@romashka.ru"))
    assert not err.value.retryable and err.value.code == 550
    assert inbox.received == []


async def test_temporary_refusal_is_retried(smtp_server: tuple[Inbox, int]) -> None:
    _, port = smtp_server
    mailer = SmtpMailer("127.0.0.1", port, SENDER, timeout=10)
    with pytest.raises(MailDeliveryError) as err:
        await mailer.send(invoice_mail("refuse-451@romashka.ru"))
    assert err.value.retryable and err.value.code == 451
