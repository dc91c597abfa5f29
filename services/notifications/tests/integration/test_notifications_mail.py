"""E-mail through a real local SMTP server (aiosmtpd): content, the invoice PDF fetched from a
stand-in billing with a service token, retry with back-off after the server was down, staff
recipients, one-time credentials never stored, and the periodic sender on its own."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clientops_shared.db import make_engine
from clientops_shared.events import billing as b
from clientops_shared.events import contracts as c
from clientops_shared.events import field_ops as fo
from clientops_shared.settings import database_url
from clientops_shared.testing import eventually_async

pytestmark = pytest.mark.integration

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 15, 9, 0, tzinfo=MSK)
PDF_PREFIX = b"%PDF-1.4\n% invoice "


async def client_with_email(svc: Any, manager: str = "ivanova") -> tuple[uuid.UUID, str]:
    client_id = uuid.uuid4()
    address = f"buh-{client_id.hex[:6]}@romashka.ru"
    await svc.publish(c.ClientRegistered(client_id=client_id, name="ООО «Ромашка»",
                                         inn="7707083893", email=address, manager=manager))
    return client_id, address


def issued(client_id: uuid.UUID, address: str, number: str) -> b.InvoiceIssued:
    return b.InvoiceIssued(
        invoice_id=uuid.uuid4(), number=number, client_id=client_id, contract_id=uuid.uuid4(),
        period="2026-12", amount=Decimal("12500.00"), vat=Decimal("2750.00"),
        total=Decimal("15250.00"), due_on=date(2026, 12, 25), email=address)


async def delivery(svc: Any, **where: Any) -> dict[str, Any]:
    r = await svc.http.get("/api/mail", headers=svc.head, params={"limit": 500, **where})
    assert r.status_code == 200, r.text
    (row,) = r.json()
    result: dict[str, Any] = row
    return result


def settings(smtp: Any, billing: Any, **extra: Any) -> dict[str, Any]:
    return {"smtp_port": smtp.port, "smtp_sender": "ClientOps <billing@clientops.example>",
            "billing_url": billing.url, **extra}


async def test_invoice_mail_with_pdf_and_retry_after_the_smtp_server_was_down(
    service: Any, smtp: Any, billing_stand_in: Any, fresh_database: str
) -> None:
    # a database of its own: the sender's counts cover every due mail, other tests' included
    async with service(NOW, database=fresh_database, **settings(smtp, billing_stand_in)) as svc:
        client_id, address = await client_with_email(svc)
        event = issued(client_id, address, "2026-12-0101")
        pdf = PDF_PREFIX + event.number.encode() + bytes(range(256))
        billing_stand_in.pdfs[str(event.invoice_id)] = pdf
        await svc.publish(event)
        assert (await delivery(svc, client_id=client_id))["state"] == "pending"

        sent = await svc.run_job("mail-sender")
        assert sent["sent"] >= 1
        (message,) = smtp.inbox.to(address)
        assert message["Subject"] == "Счёт № 2026-12-0101 за декабрь 2026"
        assert message["From"] == "ClientOps <billing@clientops.example>"
        body = message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert "Здравствуйте, ООО «Ромашка»!" in text
        assert "Сумма к оплате: 15 250,00 ₽." in text and "до 25.12.2026" in text
        (attachment,) = message.iter_attachments()
        assert attachment.get_filename() == "Счёт 2026-12-0101.pdf"
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_content() == pdf
        assert billing_stand_in.requests == [(str(event.invoice_id), "notifications")]
        row = await delivery(svc, client_id=client_id)
        assert (row["state"], row["attempts"], row["message_id"]) == (
            "sent", 1, message["Message-ID"])

        # the SMTP server goes down: the next invoice waits and is retried with back-off
        smtp.stop()
        second_client, second_address = await client_with_email(svc)
        second = issued(second_client, second_address, "2026-12-0102")
        billing_stand_in.pdfs[str(second.invoice_id)] = PDF_PREFIX + b"0102"
        await svc.publish(second)
        svc.clock.set(NOW + timedelta(minutes=1))
        result = await svc.run_job("mail-sender")
        assert result["retrying"] == 1 and result["sent"] == 0
        row = await delivery(svc, client_id=second_client)
        assert (row["state"], row["attempts"]) == ("pending", 1)
        assert "unreachable" in row["last_error"]
        assert datetime.fromisoformat(row["next_attempt_at"]) == svc.clock.now() + timedelta(
            seconds=30)
        # not due yet: nothing is tried
        svc.clock.set(NOW + timedelta(minutes=1, seconds=20))
        assert await svc.run_job("mail-sender") == {"sent": 0, "retrying": 0, "failed": 0}
        # still down at the second try: the wait doubles
        svc.clock.set(NOW + timedelta(minutes=1, seconds=31))
        await svc.run_job("mail-sender")
        row = await delivery(svc, client_id=second_client)
        assert row["attempts"] == 2
        assert datetime.fromisoformat(row["next_attempt_at"]) == svc.clock.now() + timedelta(
            minutes=1)

        # the server is back: the mail goes out once, with its PDF
        smtp.start()
        svc.clock.set(NOW + timedelta(minutes=3))
        assert (await svc.run_job("mail-sender"))["sent"] == 1
        (message,) = smtp.inbox.to(second_address)
        (attachment,) = message.iter_attachments()
        assert attachment.get_content() == PDF_PREFIX + b"0102"
        row = await delivery(svc, client_id=second_client)
        assert (row["state"], row["attempts"], row["last_error"]) == ("sent", 3, None)
        assert (await svc.run_job("mail-sender"))["sent"] == 0
        assert len(smtp.inbox.to(second_address)) == 1


async def test_pdf_not_ready_is_retried_and_a_refused_address_fails_visibly(
    service: Any, smtp: Any, billing_stand_in: Any
) -> None:
    async with service(NOW, **settings(smtp, billing_stand_in)) as svc:
        client_id, address = await client_with_email(svc)
        event = issued(client_id, address, "2026-12-0201")
        await svc.publish(event)
        await svc.run_job("mail-sender")
        row = await delivery(svc, client_id=client_id)
        assert (row["state"], row["attempts"]) == ("pending", 1)
        assert "404" in row["last_error"]
        assert smtp.inbox.to(address) == []

        billing_stand_in.pdfs[str(event.invoice_id)] = PDF_PREFIX + b"0201"
        svc.clock.set(NOW + timedelta(minutes=5))
        await svc.run_job("mail-sender")
        assert (await delivery(svc, client_id=client_id))["state"] == "sent"
        assert len(smtp.inbox.to(address)) == 1

        # a malformed address is refused for good: failed, with the reason, visible
        bad_client = uuid.uuid4()
        await svc.publish(c.ClientRegistered(client_id=bad_client, name="ООО Опечатка",
                                             inn="7736207543", email="buh@", manager="ivanova"))
        await svc.publish(fo.WorkOrderScheduled(work_order_id=uuid.uuid4(), client_id=bad_client,
                                                scheduled_for=NOW + timedelta(days=3)))
        await svc.run_job("mail-sender", NOW + timedelta(minutes=6))
        row = await delivery(svc, client_id=bad_client)
        assert row["state"] == "failed" and row["template"] == "visit_confirmation"
        assert row["last_error"]
        r = await svc.http.get("/api/mail", headers=svc.head, params={"state": "failed"})
        assert row["id"] in [m["id"] for m in r.json()]
        # a manager sees only mail about their own clients
        r = await svc.http.get("/api/mail", headers=svc.auth("petrova", "manager"),
                               params={"client_id": str(bad_client)})
        assert r.json() == []


async def test_escalation_mail_goes_to_the_head_from_the_staff_directory(
    service: Any, smtp: Any, billing_stand_in: Any
) -> None:
    async with service(NOW, **settings(smtp, billing_stand_in)) as svc:
        client_id, _ = await client_with_email(svc)
        await svc.publish(fo.VisitSlaBreached(work_order_id=uuid.uuid4(), client_id=client_id,
                                              due_by=date(2026, 12, 14)))
        head_mail = f"head-{uuid.uuid4().hex[:6]}@clientops.example"
        # no address known yet: retried, not lost
        await svc.run_job("mail-sender")
        row = await delivery(svc, client_id=client_id, template="escalation")
        assert row["state"] == "pending" and "PUT /api/staff/head" in row["last_error"]
        r = await svc.http.put("/api/staff/head", headers=svc.auth("admin", "admin"),
                               json={"email": head_mail, "full_name": "Руководитель"})
        assert r.status_code == 200, r.text
        r = await svc.http.put("/api/staff/head", headers=svc.auth("ivanova", "manager"),
                               json={"email": "x@y.ru"})
        assert r.status_code == 403
        await svc.run_job("mail-sender", NOW + timedelta(minutes=1))
        (message,) = smtp.inbox.to(head_mail)
        assert message["Subject"].startswith("Эскалация (выезды и оборудование): Нарушен срок")
        assert (await delivery(svc, client_id=client_id, template="escalation"))["state"] == \
            "sent"


async def all_text(svc: Any) -> str:
    """Every row of every table of the service's database, as text."""
    tables = [r["tablename"] for r in await svc.rows(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    parts: list[str] = []
    for table in tables:
        rows = await svc.rows(f'SELECT t::text AS row FROM "{table}" t')
        parts.extend(r["row"] for r in rows)
    return "\n".join(parts)


async def test_cloud_credentials_are_mailed_once_and_the_secret_is_stored_nowhere(
    service: Any, smtp: Any, billing_stand_in: Any
) -> None:
    async with service(NOW, **settings(smtp, billing_stand_in)) as svc:
        client_id, address = await client_with_email(svc)
        password = f"Tmp-{uuid.uuid4().hex}"
        event = fo.CloudTenantProvisioned(client_id=client_id, url="https://romashka.pass24.online",
                                          login="admin", password=password)
        await svc.publish(event)
        (message,) = smtp.inbox.to(address)  # sent while the event was handled
        body = message.get_body(("plain",))
        assert body is not None and f"Пароль: {password}" in body.get_content()
        row = await delivery(svc, client_id=client_id)
        assert (row["template"], row["state"]) == ("cloud_credentials", "sent")
        # a second provisioning event (or a replay) never mails the credentials again
        await svc.publish(event)
        assert len(smtp.inbox.to(address)) == 1
        assert password not in await all_text(svc)

        # the SMTP server is down when another tenant is provisioned: the mail fails at once,
        # the secret is dropped, and the manager gets a task to have new credentials issued
        smtp.stop()
        other, other_address = await client_with_email(svc, manager="sidorov")
        other_password = f"Tmp-{uuid.uuid4().hex}"
        await svc.publish(fo.CloudTenantProvisioned(client_id=other, url="https://b.pass24.online",
                                                    login="admin", password=other_password))
        row = await delivery(svc, client_id=other)
        assert row["state"] == "failed" and "new credentials" in row["last_error"]
        (task,) = await svc.tasks(client_id=str(other), kind="secret_mail_failed")
        assert task["assignee"] == "sidorov" and task["priority"] == "high"
        r = await svc.http.post(f"/api/mail/{row['id']}/retry", headers=svc.head)
        assert r.status_code == 409
        assert other_password not in await all_text(svc)
        smtp.start()
        await svc.run_job("mail-sender", NOW + timedelta(hours=2))
        assert smtp.inbox.to(other_address) == []


async def test_the_periodic_sender_sends_without_being_asked(
    service: Any, smtp: Any, billing_stand_in: Any
) -> None:
    # real clock and the service's own periodic jobs: nobody calls the job endpoint
    async with service(datetime.now(MSK), jobs_enabled=True, mail_poll_seconds=0.2,
                       **settings(smtp, billing_stand_in)) as svc:
        client_id, address = await client_with_email(svc)
        event = issued(client_id, address, "2026-12-0301")
        billing_stand_in.pdfs[str(event.invoice_id)] = PDF_PREFIX + b"0301"
        await svc.publish(event)

        # wait for the state asserted: the mail reaches the server while the row says
        # "sending", and "sent" is committed after the server took it
        async def recorded_sent() -> bool:
            return bool((await delivery(svc, client_id=client_id))["state"] == "sent")
        await eventually_async(recorded_sent, timeout=20)
        (message,) = smtp.inbox.to(address)
        row = await delivery(svc, client_id=client_id)
        assert (row["attempts"], row["message_id"]) == (1, message["Message-ID"])


async def test_two_senders_at_once_send_every_mail_exactly_once(
    service: Any, smtp: Any, billing_stand_in: Any, fresh_database: str
) -> None:
    async with service(NOW, database=fresh_database, **settings(smtp, billing_stand_in)) as svc:
        addresses = []
        for n in range(8):
            client_id, address = await client_with_email(svc)
            event = issued(client_id, address, f"2026-12-07{n:02d}")
            billing_stand_in.pdfs[str(event.invoice_id)] = PDF_PREFIX + bytes([n])
            await svc.publish(event)
            addresses.append(address)
        first, second = await asyncio.gather(svc.run_job("mail-sender"),
                                             svc.run_job("mail-sender"))
        assert first["sent"] + second["sent"] == 8
        assert sorted(a for rcpt, _ in smtp.inbox.received for a in rcpt) == sorted(addresses)
        assert await svc.scalar("SELECT count(*) FROM mail_delivery WHERE state = 'sent'") == 8


async def test_a_try_is_on_record_as_sending_before_the_server_sees_it_and_a_dead_try_is_resent(
    service: Any, smtp: Any, billing_stand_in: Any
) -> None:
    async with service(NOW, **settings(smtp, billing_stand_in)) as svc:
        client_id, address = await client_with_email(svc)
        event = issued(client_id, address, "2026-12-0401")
        billing_stand_in.pdfs[str(event.invoice_id)] = PDF_PREFIX + b"0401"
        await svc.publish(event)
        deps = svc.app.state.deps
        real = deps.mailer
        seen_while_sending: list[tuple[str, str]] = []

        class Watching:
            sender = real.sender

            async def send(self, mail: Any) -> str:
                row = (await svc.rows("SELECT state, message_id FROM mail_delivery "
                                      "WHERE client_id = :c", c=str(client_id)))[0]
                seen_while_sending.append((row["state"], row["message_id"]))
                result: str = await real.send(mail)
                return result
        deps.mailer = Watching()
        try:
            assert (await svc.run_job("mail-sender"))["sent"] == 1
        finally:
            deps.mailer = real
        (message,) = smtp.inbox.to(address)
        # committed before the server got it: "sending", under the Message-ID the mail carries
        assert seen_while_sending == [("sending", message["Message-ID"])]
        assert message["Message-ID"].endswith("@clientops.example>")

        # a process died while sending the next one: its row stays "sending" (maybe sent)
        second_client, second_address = await client_with_email(svc)
        second = issued(second_client, second_address, "2026-12-0402")
        billing_stand_in.pdfs[str(second.invoice_id)] = PDF_PREFIX + b"0402"
        await svc.publish(second)
        engine = make_engine(database_url(svc.database, svc.servers.pg_dsn))
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.text(
                    "UPDATE mail_delivery SET state = 'sending', attempts = 1, "
                    "next_attempt_at = NULL, message_id = '<dead-try@clientops.example>', "
                    "updated_at = :at WHERE client_id = :c"), {"at": NOW, "c": str(second_client)})
        finally:
            await engine.dispose()
        # not while that try may still be under way
        svc.clock.set(NOW + timedelta(minutes=5))
        assert (await svc.run_job("mail-sender"))["sent"] == 0
        assert (await delivery(svc, client_id=second_client))["state"] == "sending"
        # long after: sent again under the same Message-ID, so a duplicate is recognisable
        svc.clock.set(NOW + timedelta(minutes=16))
        assert (await svc.run_job("mail-sender"))["sent"] == 1
        (resent,) = smtp.inbox.to(second_address)
        assert resent["Message-ID"] == "<dead-try@clientops.example>"
        row = await delivery(svc, client_id=second_client)
        assert (row["state"], row["attempts"], row["message_id"]) == (
            "sent", 2, "<dead-try@clientops.example>")
