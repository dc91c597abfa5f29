"""Invoice PDFs for the mails that carry them: fetched from billing over HTTP, or a fake.

Billing owns the invoice and its PDF (`GET /api/invoices/{id}/pdf`); notifications asks for it
only when it sends the mail, with a service token, and never on a write path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

import httpx

from clientops_shared.auth import issue_token, service_issuer


class InvoicePdfUnavailable(Exception):
    """The PDF could not be had now (billing down, not rendered yet) or at all."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class InvoicePdfSource(Protocol):
    async def fetch(self, invoice_id: str) -> bytes:
        """The invoice's PDF bytes. Raises InvoicePdfUnavailable."""
        ...


class HttpInvoicePdfSource:
    def __init__(
        self,
        base_url: str,
        jwt_secret: str,
        *,
        path: str = "/api/invoices/{invoice_id}/pdf",
        timeout: float = 20.0,
        service: str = "notifications",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.jwt_secret = jwt_secret
        self.path = path
        self.timeout = timeout
        self.service = service
        self.transport = transport

    async def fetch(self, invoice_id: str) -> bytes:
        token = issue_token(self.jwt_secret, self.service, "service", ttl=timedelta(minutes=5),
                            issuer=service_issuer(self.service))
        url = self.base_url + self.path.format(invoice_id=invoice_id)
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as http:
                response = await http.get(url, headers={"Authorization": f"Bearer {token}",
                                                        "Accept": "application/pdf"})
        except httpx.HTTPError as exc:
            raise InvoicePdfUnavailable(f"billing unreachable: {exc!r}", retryable=True) from exc
        if response.status_code == 200:
            if not response.content.startswith(b"%PDF"):
                raise InvoicePdfUnavailable(
                    f"billing answered 200 but not a PDF for invoice {invoice_id}",
                    retryable=False,
                )
            return response.content
        # 404: not rendered yet (or not replicated); 408/429/5xx: try later
        retryable = response.status_code in (404, 408, 425, 429) or response.status_code >= 500
        raise InvoicePdfUnavailable(
            f"billing answered {response.status_code} for the PDF of invoice {invoice_id}",
            retryable=retryable,
        )


@dataclass
class FakeInvoicePdfSource:
    """PDFs from a dict; an unknown invoice is 'not rendered yet' (retryable)."""

    pdfs: dict[str, bytes] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)

    async def fetch(self, invoice_id: str) -> bytes:
        self.requested.append(invoice_id)
        if invoice_id not in self.pdfs:
            raise InvoicePdfUnavailable(f"no PDF for invoice {invoice_id}", retryable=True)
        return self.pdfs[invoice_id]
