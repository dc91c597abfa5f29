"""Calls to the other services' APIs with the logged-in user's bearer token.

Every failure becomes a ``ServiceError`` whose ``message`` is fit to show on the page: a
service that is down, a refusal, a missing record, or the 422 field list to show inline.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import httpx

from web.formatting import field_message

SERVICE_TITLES = {
    "contracts": "Договоры",
    "billing": "Биллинг",
    "field_ops": "Выезды",
    "logistics": "Логистика",
    "notifications": "Задачи",
}


@dataclass
class ServiceError(Exception):
    service: str
    status: int
    detail: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)
    current_state: str | None = None  # a 409's state the record is in

    @property
    def title(self) -> str:
        return SERVICE_TITLES.get(self.service, self.service)

    @property
    def message(self) -> str:
        if self.status == 0 or self.status >= 500:
            return f"Сервис «{self.title}» сейчас недоступен, попробуйте позже."
        if self.status == 403:
            return "Нет доступа."
        if self.status == 404:
            return "Не найдено."
        if self.status == 422:
            return "Проверьте поля формы."
        if self.detail:  # the service's refusal, in Russian where it is a known one
            return field_message("", self.detail)
        return f"Сервис «{self.title}» ответил ошибкой {self.status}."

    def field_errors(self) -> dict[str, str]:
        """422 messages keyed by field name (``bank.bik`` as well as ``bik``), in Russian
        where the message is one the services are known to give (else as the API said)."""
        out: dict[str, str] = {}
        for err in self.errors:
            name = str(err.get("field", ""))
            out.setdefault(name, field_message(str(err.get("type", "")),
                                               str(err.get("message", ""))))
        return out

    def form_errors(self, field: str = "", *,
                    refusals: Collection[int] = (409, 422)) -> dict[str, str]:
        """What a form shows when the service refused it: the 422's field errors, else the
        refusal's own words under ``field``. Anything else (the service down, a 500, a
        status the form does not expect) is raised on, for the page's error handler."""
        if self.status not in refusals:
            raise self
        if self.status in (403, 422) and self.detail and not self.errors:
            return {field: field_message("", self.detail)}  # the service's own reason
        return self.field_errors() or {field: self.message}

    def __str__(self) -> str:
        return f"{self.service}: {self.status} {self.detail}"


class ServiceDown(ServiceError):
    pass


@dataclass(frozen=True)
class Keyset:
    """One page of a list paged by cursor: its rows and where the next page starts."""

    rows: list[Any]
    next_cursor: str | None


class Services:
    """One user's view of the services: the same shared HTTP pool, their token."""

    def __init__(self, http: httpx.AsyncClient, urls: dict[str, str], token: str, *,
                 document_timeout: float = 60.0) -> None:
        self._http = http
        self._urls = urls
        self._headers = {"Authorization": f"Bearer {token}"}
        self._document_timeout = httpx.Timeout(document_timeout, connect=3.0)

    async def request(self, service: str, method: str, path: str, *,
                      params: dict[str, Any] | None = None, json: Any = None,
                      files: Any = None, data: Any = None,
                      headers: dict[str, str] | None = None,
                      timeout: httpx.Timeout | None = None  # noqa: ASYNC109 (httpx's own)
                      ) -> httpx.Response:
        url = self._urls[service] + path
        clean = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        try:
            response = await self._http.request(
                method, url, params=clean, json=json, files=files, data=data,
                headers={**self._headers, **(headers or {})},
                timeout=timeout or httpx.USE_CLIENT_DEFAULT)
        except httpx.HTTPError as exc:
            raise ServiceDown(service, 0, f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise _error(service, response)
        return response

    async def document(self, service: str, path: str, **params: Any) -> httpx.Response:
        """A file the service renders (PDF, DOCX, XLSX, 1C XML): rendering on a busy server
        takes longer than a page's data, so it waits longer before saying the service is down."""
        return await self.request(service, "GET", path, params=params,
                                  timeout=self._document_timeout)

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return (await self.request(service, "GET", path, params=params)).json()

    async def get_page(self, service: str, path: str, **params: Any) -> tuple[Any, int | None]:
        """A list and its ``X-Total-Count`` (None when the service does not say, or counted
        no further than its cap: ``1000+``)."""
        response = await self.request(service, "GET", path, params=params)
        total = response.headers.get("x-total-count")
        return response.json(), int(total) if total and total.isdigit() else None

    async def get_keyset(self, service: str, path: str, **params: Any) -> Keyset:
        """A page of a keyset-paged list and its ``X-Next-Cursor`` (None on the last page)."""
        response = await self.request(service, "GET", path, params=params)
        return Keyset(response.json(), response.headers.get("x-next-cursor") or None)

    async def post(self, service: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        response = await self.request(service, "POST", path, json=json, **kwargs)
        return response.json() if response.content else None

    async def patch(self, service: str, path: str, json: Any) -> Any:
        return (await self.request(service, "PATCH", path, json=json)).json()

    async def put(self, service: str, path: str, json: Any) -> Any:
        return (await self.request(service, "PUT", path, json=json)).json()


def _error(service: str, response: httpx.Response) -> ServiceError:
    detail = ""
    errors: list[dict[str, str]] = []
    state: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = str(body.get("detail") or body.get("title") or "")
        raw = body.get("errors")
        if isinstance(raw, list):
            errors = [{"field": str(e.get("field", "")), "message": str(e.get("message", "")),
                       "type": str(e.get("type", ""))}
                      for e in raw if isinstance(e, dict)]
        if body.get("current_state") is not None:
            state = str(body["current_state"])
    cls = ServiceDown if response.status_code in (502, 503, 504) else ServiceError
    return cls(service, response.status_code, detail, errors, state)
