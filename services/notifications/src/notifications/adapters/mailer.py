"""Sending e-mail: the `Mailer` port, an SMTP adapter (aiosmtplib) and a recording fake."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

import aiosmtplib


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "application/pdf"
    data: bytes

    def __post_init__(self) -> None:
        if self.content_type.count("/") != 1:
            raise ValueError(f"content type must be maintype/subtype, got {self.content_type!r}")


@dataclass(frozen=True)
class OutgoingMail:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    reply_to: str | None = None
    message_id: str | None = None  # the attempt's id, recorded before sending; else generated

    def __post_init__(self) -> None:
        if not self.to:
            raise ValueError("a mail needs at least one recipient")


class MailDeliveryError(Exception):
    """Sending failed. `retryable`: a later try may succeed (server down, 4xx), or not (5xx)."""

    def __init__(self, message: str, *, retryable: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


def message_id_for(attempt_id: object, sender: str) -> str:
    """The Message-ID of one delivery attempt: ``<attempt-id@sender's domain>``."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "clientops.local"
    return f"<{attempt_id}@{domain}>"


class Mailer(Protocol):
    sender: str

    async def send(self, mail: OutgoingMail) -> str:
        """Send `mail`; return its Message-ID. Raises MailDeliveryError."""
        ...


def build_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """A MIME message with UTF-8 Russian subject and body, HTML alternative, attachments."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    message["Message-ID"] = mail.message_id or make_msgid(domain=domain)
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message.set_content(mail.text, subtype="plain", charset="utf-8")
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html", charset="utf-8")
    for attachment in mail.attachments:
        maintype, subtype = attachment.content_type.split("/")
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def checked_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """`build_message`, with a malformed address reported as a permanent delivery error."""
    for address in mail.to:
        _, spec = parseaddr(address)
        local, _, domain = spec.rpartition("@")
        if not local or not domain:
            raise MailDeliveryError(f"malformed address {address!r}", retryable=False)
        try:
            Address(addr_spec=spec)
        except (ValueError, IndexError, HeaderParseError) as exc:
            raise MailDeliveryError(f"malformed address {address!r}: {exc}",
                                    retryable=False) from exc
    try:
        return build_message(mail, sender)
    except (ValueError, IndexError, TypeError, HeaderParseError) as exc:
        raise MailDeliveryError(f"cannot build the message: {exc}", retryable=False) from exc


def _classify(exc: Exception) -> MailDeliveryError:
    # 4xx is "try again later" in SMTP; 5xx is a permanent refusal (bad address, rejected)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        retryable = bool(codes) and all(400 <= c < 500 for c in codes)
        return MailDeliveryError(
            f"recipients refused: {exc}", retryable=retryable, code=codes[0] if codes else None
        )
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return MailDeliveryError(f"SMTP login refused: {exc}", retryable=False, code=exc.code)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return MailDeliveryError(
            f"SMTP server answered {exc.code}: {exc.message}",
            retryable=400 <= exc.code < 500,
            code=exc.code,
        )
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return MailDeliveryError(f"SMTP server lacks a needed feature: {exc}", retryable=False)
    # connection refused, timeouts, disconnects: the server may be back soon
    return MailDeliveryError(f"SMTP server unreachable: {exc}", retryable=True)


class SmtpMailer:
    """Sends through an SMTP server with aiosmtplib, one connection per mail."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        use_tls: bool = False,
        start_tls: bool | None = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        # "ClientOps <noreply@x.ru>" or a bare address; the envelope sender is the address
        _, address = parseaddr(sender)
        Address(addr_spec=address)  # fail at start-up on a malformed sender, not on first mail
        self.envelope_sender = address
        if use_tls and start_tls:
            raise ValueError("use either implicit TLS (use_tls) or STARTTLS, not both")
        self.host = host
        self.port = port
        self.sender = sender
        self.use_tls = use_tls
        self.start_tls = start_tls
        self.username = username
        self.password = password
        self.timeout = timeout
        self.tls_context = tls_context

    async def send(self, mail: OutgoingMail) -> str:
        message = checked_message(mail, self.sender)
        try:
            await aiosmtplib.send(
                message,
                sender=self.envelope_sender,
                recipients=list(mail.to),
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.use_tls,
                start_tls=self.start_tls,
                timeout=self.timeout,
                tls_context=self.tls_context,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _classify(exc) from exc
        return str(message["Message-ID"])


@dataclass
class FakeMailer:
    """Records messages instead of sending; `fail_with` makes the next sends fail."""

    sender: str = "noreply@clientops.local"
    sent: list[EmailMessage] = field(default_factory=list)
    fail_with: MailDeliveryError | None = None
    failures_left: int = 0

    async def send(self, mail: OutgoingMail) -> str:
        if self.fail_with is not None and self.failures_left > 0:
            self.failures_left -= 1
            raise self.fail_with
        message = checked_message(mail, self.sender)
        self.sent.append(message)
        return str(message["Message-ID"])

    def fail_next(self, error: MailDeliveryError, times: int = 1) -> None:
        self.fail_with = error
        self.failures_left = times

    def subjects(self) -> Sequence[str]:
        return [str(m["Subject"]) for m in self.sent]
