"""E-mail: queue a mail with its delivery row, and the sender that works the queue.

A queued mail is a `mail_delivery` row (context with secrets masked). The sender takes due
rows one at a time with `FOR UPDATE SKIP LOCKED` (replicas never send the same row), renders
the template, fetches attachments and records the try as `sending` with its Message-ID; then
sends through the `Mailer` port and records the outcome: sent, or failed with the next try
scheduled (back-off) or given up. A row left in `sending` is "maybe sent".

A mail that carries a one-time secret (cloud credentials) is never queued with it: it is sent
at once while the event is handled; if that fails, the row says so, the secret is dropped and
the client's manager gets a task to have new credentials issued.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.uow import UnitOfWork
from notifications.adapters import orm
from notifications.adapters.invoices import InvoicePdfSource, InvoicePdfUnavailable
from notifications.adapters.mailer import (
    Attachment,
    MailDeliveryError,
    OutgoingMail,
    message_id_for,
)
from notifications.domain.mail_templates import MailTemplateError, render_mail
from notifications.domain.model import (
    DeliveryState,
    Function,
    MailDelivery,
    MailDraft,
    Priority,
    Task,
    TaskAction,
)
from notifications.domain.rules import WorkingCalendar
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork

log = logging.getLogger("notifications.mail")
MAIL_SENT = Counter("clientops_mail_sent_total", "Mails handed to the SMTP relay", ["template"])
MAIL_FAILURES = Counter("clientops_mail_failures_total", "Failed send attempts",
                        ["template", "final"])
USER_PREFIX = "user:"


class RecipientUnknown(Exception):
    """A staff user has no e-mail address yet (the admin may add it: retried)."""


class UnknownAttachment(Exception):
    """A rule names an attachment the sender does not know how to fetch."""


def address_of(draft: MailDraft) -> str:
    """What the delivery row stores in `to`: an address, or `user:<name>` resolved at sending."""
    if draft.to.email is not None:
        return draft.to.email
    return f"{USER_PREFIX}{draft.to.username}"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _delivery_row(draft: MailDraft, now: datetime, client_id: str | None) -> dict[str, Any]:
    delivery = MailDelivery(id=uuid.uuid4(), template=draft.template, to=address_of(draft),
                            created_at=now, dedupe_key=draft.dedupe_key)
    return dict(
        id=delivery.id, template=delivery.template, to=delivery.to,
        created_at=delivery.created_at, dedupe_key=delivery.dedupe_key,
        state=str(delivery.state), attempts=0, next_attempt_at=delivery.next_attempt_at,
        max_attempts=delivery.max_attempts, context=_jsonable(draft.stored_context()),
        attachments=list(draft.attachments), client_id=client_id, updated_at=now)


async def queue_mail(uow: NotificationsUnitOfWork, draft: MailDraft, now: datetime,
                     client_id: str | None) -> uuid.UUID | None:
    """Insert the delivery row; None when a mail with the same dedupe key exists already."""
    inserted = (await uow.session.execute(insert(orm.mail_delivery).values(
        **_delivery_row(draft, now, client_id),
    ).on_conflict_do_nothing(index_elements=[orm.mail_delivery.c.dedupe_key])
        .returning(orm.mail_delivery.c.id))).first()
    return None if inserted is None else inserted.id


def queue_mail_at_commit(uow: NotificationsUnitOfWork, draft: MailDraft, now: datetime,
                         client_id: str | None) -> None:
    """``queue_mail`` for a caller that does not need the row's id: the row goes in with the
    transaction's other mails in one statement at the commit (a mail with the same dedupe
    key, queued before or in the same statement, wins)."""
    uow.insert_later(orm.mail_delivery, _delivery_row(draft, now, client_id))


async def resolve_address(uow: NotificationsUnitOfWork, to: str,
                          staff_emails: Mapping[str, str]) -> str:
    if not to.startswith(USER_PREFIX):
        return to
    username = to.removeprefix(USER_PREFIX)
    email = await uow.staff_email(username) or staff_emails.get(username)
    if not email:
        raise RecipientUnknown(f"no e-mail address for staff user {username!r}: add it with "
                               f"PUT /api/staff/{username}")
    return email


async def compose(template: str, context: Mapping[str, Any], address: str,
                  attachments: list[str], invoices: InvoicePdfSource) -> OutgoingMail:
    subject, text, html = render_mail(template, **context)
    files: list[Attachment] = []
    for name in attachments:
        if name != "invoice_pdf":
            raise UnknownAttachment(f"unknown attachment {name!r}")
        invoice_id = context.get("invoice_id")
        if not invoice_id:
            raise UnknownAttachment("an invoice PDF needs invoice_id in the mail context")
        data = await invoices.fetch(str(invoice_id))
        number = context.get("number") or invoice_id
        files.append(Attachment(f"Счёт {number}.pdf", "application/pdf", data))
    return OutgoingMail(to=(address,), subject=subject, text=text, html=html,
                        attachments=tuple(files))


SENDING_STALE_AFTER = timedelta(minutes=15)  # far beyond the SMTP timeout


async def send_one(uow_factory: Callable[[], NotificationsUnitOfWork], deps: Dependencies,
                   now: datetime) -> str | None:
    """Send the next due mail; its new state, or None if none is due.

    The try is committed as ``sending`` with its Message-ID before the mail is handed to the
    server, and ``sent`` (or failed) after, each in its own transaction. A process that dies
    in between leaves ``sending``: "maybe sent", never mistaken for "never sent". Such a row
    is tried again after ``SENDING_STALE_AFTER`` under the same Message-ID, so a duplicate
    is recognisable by the recipient's mail program.
    """
    async with uow_factory() as uow:
        found = await uow.next_due_mail(now, stale_sending_before=now - SENDING_STALE_AFTER)
        if found is None:
            return None
        delivery, extra = found
        maybe_sent = delivery.start_attempt(now)
        message_id = ((maybe_sent and extra["message_id"])
                      or message_id_for(uuid.uuid4(), deps.mailer.sender))
        if maybe_sent:
            log.warning("mail %s: an earlier try may have been sent; trying again as %s",
                        delivery.id, message_id)
        failure: tuple[str, bool] | None = None
        mail: OutgoingMail | None = None
        try:
            address = await resolve_address(uow, delivery.to, deps.staff_emails)
            mail = replace(await compose(delivery.template, extra["context"], address,
                                         list(extra["attachments"]), deps.invoices),
                           message_id=message_id)
        except Exception as exc:
            failure = _failure(delivery.id, exc)
        if failure is not None:
            return await _record_outcome(uow, delivery, now, failure, None)
        await uow.set_mail_extras(delivery.id, message_id=message_id, updated_at=now)
        await uow.commit()  # "sending", with the Message-ID, is on record before the server
    assert mail is not None
    try:
        message_id = await deps.mailer.send(mail)
    except Exception as exc:
        failure = _failure(delivery.id, exc)
    async with uow_factory() as uow:
        delivery = await uow.mail_delivery_for_update(delivery.id)
        return await _record_outcome(uow, delivery, now, failure, message_id)


def _failure(delivery_id: uuid.UUID, exc: Exception) -> tuple[str, bool]:
    """(error, retryable) of a failed try."""
    if isinstance(exc, MailDeliveryError | InvoicePdfUnavailable):
        return str(exc), exc.retryable
    if isinstance(exc, RecipientUnknown):
        return str(exc), True
    if isinstance(exc, MailTemplateError | UnknownAttachment):
        return str(exc), False
    # a bug or an outside failure nobody foresaw must not wedge the queue on this row
    log.error("mail %s: unexpected error while sending", delivery_id, exc_info=exc)
    return f"unexpected error: {exc!r}", True


async def _record_outcome(uow: NotificationsUnitOfWork, delivery: MailDelivery, now: datetime,
                          failure: tuple[str, bool] | None, message_id: str | None) -> str:
    if failure is None:
        delivery.mark_sent(now)
        MAIL_SENT.labels(delivery.template).inc()
    else:
        delivery.mark_failed(now, failure[0], retryable=failure[1])
        MAIL_FAILURES.labels(delivery.template,
                             str(delivery.state is DeliveryState.FAILED).lower()).inc()
    if delivery.state is DeliveryState.FAILED:
        log.warning("mail %s (%s) failed for good: %s", delivery.id, delivery.template,
                    delivery.last_error)
    await uow.set_mail_extras(delivery.id, message_id=message_id, updated_at=now)
    await uow.commit()
    return str(delivery.state)


async def send_due_mail(uow_factory: Callable[[], NotificationsUnitOfWork], deps: Dependencies,
                        at: datetime | None = None, limit: int | None = None) -> dict[str, int]:
    """Work the mail queue: each row on its own, so one bad mail stops nothing."""
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    for _ in range(limit or deps.mail_batch):
        state = await send_one(uow_factory, deps, at or deps.now())
        if state is None:
            break
        counts["retrying" if state == DeliveryState.PENDING else state] += 1
    return counts


def carries_secret(draft: MailDraft) -> bool:
    return any(draft.context.get(name) for name in draft.sensitive)


SECRET_MAIL_FAILED = "secret_mail_failed"


async def send_secret_now(uow: NotificationsUnitOfWork, deps: Dependencies, draft: MailDraft,
                          now: datetime, client_id: str | None, manager: str | None,
                          calendar: WorkingCalendar) -> None:
    """Send a mail that carries a one-time secret at once; never store the secret."""
    delivery_id = await queue_mail(uow, draft, now, client_id)
    if delivery_id is None:
        return  # sent once already (same dedupe key): never twice
    try:
        address = await resolve_address(uow, address_of(draft), deps.staff_emails)
        mail = await compose(draft.template, draft.context, address, list(draft.attachments),
                             deps.invoices)
        message_id = await deps.mailer.send(mail)
    except (MailDeliveryError, InvoicePdfUnavailable, RecipientUnknown, MailTemplateError,
            UnknownAttachment) as exc:
        error = f"{exc}; the one-time secret was not kept: new credentials must be issued"
        await uow.set_mail_extras(delivery_id, state=DeliveryState.FAILED, attempts=1,
                                  next_attempt_at=None, last_error=error, updated_at=now)
        uow.add(secret_mail_failed_task(draft, client_id, manager, now, calendar, error))
        return
    await uow.set_mail_extras(delivery_id, state=DeliveryState.SENT, attempts=1, sent_at=now,
                              next_attempt_at=None, message_id=message_id, updated_at=now)


def secret_mail_failed_task(draft: MailDraft, client_id: str | None, manager: str | None,
                            now: datetime, calendar: WorkingCalendar, error: str) -> Task:
    client = draft.context.get("client_name") or client_id or "клиент"
    return Task(
        id=uuid.uuid4(), kind=SECRET_MAIL_FAILED, action=TaskAction.DO,
        function=Function.SUPPORT,
        title=(f"Письмо «{draft.template}» с данными для входа не отправлено ({error[:200]}): "
               f"запросить новые данные для входа и передать клиенту — {client}"),
        assignee=manager or f"queue:{Function.SUPPORT}",
        due_at=calendar.add_working_hours(now, 4), created_at=now, priority=Priority.HIGH,
        client_id=client_id, dedupe_key=f"{SECRET_MAIL_FAILED}:{draft.dedupe_key or uuid.uuid4()}",
        source_event=draft.template,
    )


MASK = "***"


async def retry_failed(uow: UnitOfWork, delivery_id: uuid.UUID, now: datetime) -> str:
    """Put a failed mail back in the queue (an operator fixed the cause). Returns the outcome:
    "queued", "missing", "not_failed" or "secret" (its one-time secret was never stored)."""
    t = orm.mail_delivery
    row = (await uow.session.execute(sa.select(t.c.state, t.c.context).where(
        t.c.id == delivery_id).with_for_update())).first()
    if row is None:
        return "missing"
    if row.state != DeliveryState.FAILED:
        return "not_failed"
    if any(value == MASK for value in row.context.values()):
        return "secret"
    await uow.session.execute(t.update().where(t.c.id == delivery_id).values(
        state=DeliveryState.PENDING, next_attempt_at=now, attempts=0, updated_at=now))
    return "queued"
