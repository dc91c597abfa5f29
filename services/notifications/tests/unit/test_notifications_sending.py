"""Composing and sending a mail with fakes: template, invoice PDF, recipients, failures."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from clientops_shared.auth import decode_token
from notifications.adapters.invoices import (
    FakeInvoicePdfSource,
    HttpInvoicePdfSource,
    InvoicePdfUnavailable,
)
from notifications.adapters.mailer import FakeMailer, MailDeliveryError, OutgoingMail
from notifications.domain.mail_templates import MailTemplateError
from notifications.domain.model import MailDraft, Recipient
from notifications.service_layer.mail import (
    UnknownAttachment,
    address_of,
    carries_secret,
    compose,
)

pytestmark = pytest.mark.unit

SECRET = "unit-test-secret-0123456789-0123456789-0123456789"
PDF = b"%PDF-1.4 test invoice"
INVOICE = {"client_name": "ООО «Ромашка»", "number": "2026-12-0001", "period": "2026-12",
           "total": "15250.00", "due_on": "2026-12-25", "invoice_id": "inv-1"}


async def test_composed_invoice_mail_carries_the_pdf_and_goes_out_through_the_port() -> None:
    pdfs = FakeInvoicePdfSource({"inv-1": PDF})
    mail = await compose("invoice_issued", INVOICE, "buh@romashka.ru", ["invoice_pdf"], pdfs)
    mailer = FakeMailer()
    message_id = await mailer.send(mail)
    (message,) = mailer.sent
    assert message["Message-ID"] == message_id and message["To"] == "buh@romashka.ru"
    assert message["Subject"] == "Счёт № 2026-12-0001 за декабрь 2026"
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "Счёт 2026-12-0001.pdf"
    assert attachment.get_content() == PDF
    assert pdfs.requested == ["inv-1"]


async def test_a_pdf_not_rendered_yet_is_a_retryable_failure() -> None:
    with pytest.raises(InvoicePdfUnavailable) as err:
        await compose("invoice_issued", INVOICE, "buh@romashka.ru", ["invoice_pdf"],
                      FakeInvoicePdfSource())
    assert err.value.retryable


async def test_unknown_attachment_and_missing_template_field_fail_for_good() -> None:
    with pytest.raises(UnknownAttachment):
        await compose("invoice_issued", INVOICE, "a@b.ru", ["contract_scan"],
                      FakeInvoicePdfSource())
    with pytest.raises(MailTemplateError, match="total"):
        await compose("invoice_issued", {k: v for k, v in INVOICE.items() if k != "total"},
                      "a@b.ru", [], FakeInvoicePdfSource())


@pytest.mark.parametrize("address", ["buh@", "@romashka.ru", "buh", ""])
async def test_a_malformed_address_is_a_permanent_failure(address: str) -> None:
    mail = OutgoingMail(to=(address,), subject="s", text="t")
    with pytest.raises(MailDeliveryError) as err:
        await FakeMailer().send(mail)
    assert not err.value.retryable


def test_staff_recipients_are_resolved_at_sending_and_secrets_are_recognised() -> None:
    assert address_of(MailDraft("escalation", Recipient(username="head"), {})) == "user:head"
    assert address_of(MailDraft("escalation", Recipient(email="a@b.ru"), {})) == "a@b.ru"
    with_secret = MailDraft("cloud_credentials", Recipient(email="a@b.ru"),
                            {"password": "x", "setup_url": None},
                            sensitive=("password", "setup_url"))
    without = MailDraft("cloud_credentials", Recipient(email="a@b.ru"),
                        {"password": None, "setup_url": None},
                        sensitive=("password", "setup_url"))
    assert carries_secret(with_secret) and not carries_secret(without)
    # an absent secret is not masked: the template must not print "***" as a password
    assert without.stored_context() == {"password": None, "setup_url": None}
    assert with_secret.stored_context()["password"] == "***"


def _billing(handler: Any) -> HttpInvoicePdfSource:
    return HttpInvoicePdfSource("http://billing.test", SECRET,
                                transport=httpx.MockTransport(handler))


async def test_the_http_pdf_source_asks_billing_with_a_service_token() -> None:
    seen: list[tuple[str, str, str]] = []
    invoice_id = str(uuid.uuid4())

    def handler(request: httpx.Request) -> httpx.Response:
        principal = decode_token(SECRET, request.headers["Authorization"].removeprefix("Bearer "))
        seen.append((request.url.path, principal.username, principal.role))
        return httpx.Response(200, content=PDF, headers={"content-type": "application/pdf"})

    assert await _billing(handler).fetch(invoice_id) == PDF
    assert seen == [(f"/api/invoices/{invoice_id}/pdf", "notifications", "service")]


@pytest.mark.parametrize(("status", "retryable"), [(404, True), (503, True), (429, True),
                                                    (401, False), (403, False), (400, False)])
async def test_billing_errors_are_classified(status: int, retryable: bool) -> None:
    source = _billing(lambda request: httpx.Response(status))
    with pytest.raises(InvoicePdfUnavailable) as err:
        await source.fetch("inv-1")
    assert err.value.retryable is retryable and str(status) in str(err.value)


async def test_billing_down_is_retryable_and_a_non_pdf_answer_is_not() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(InvoicePdfUnavailable) as err:
        await _billing(down).fetch("inv-1")
    assert err.value.retryable
    with pytest.raises(InvoicePdfUnavailable) as err:
        await _billing(lambda request: httpx.Response(200, content=b"<html>")).fetch("inv-1")
    assert not err.value.retryable
