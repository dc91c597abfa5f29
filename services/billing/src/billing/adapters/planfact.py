"""PlanFact (cash-flow planning) behind a port: the real HTTP client and a fake.

Each supplier invoice is one outcome operation in PlanFact: created planned
(``isCommitted: false``) on the date it is due, then updated to actual on the date it was paid.
The HTTP client speaks PlanFact's public REST API (``X-ApiKey`` header,
``POST /api/v1/operations/outcome``, ``PUT /api/v1/operations/outcome/{id}``, answers
``{"isSuccess": …, "data": {"operationId": …}}``); amounts go as exact JSON numbers.
It is tested against a local stand-in server, never the internet.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import httpx


@dataclass(frozen=True)
class Outcome:
    """One payable as PlanFact sees it."""

    external_id: str
    operation_date: date
    amount: Decimal
    committed: bool
    counterparty: str
    counterparty_inn: str
    comment: str
    category: str


class PlanFactError(Exception):
    """PlanFact refused or could not be reached; the sync is retried later."""


class PlanFactPort(Protocol):
    async def save_outcome(self, outcome: Outcome, operation_id: str | None) -> str:
        """Create (``operation_id`` None) or update the operation; returns its id."""
        ...

    async def delete_outcome(self, operation_id: str) -> None:
        """Remove a planned operation (the supplier invoice was rejected)."""
        ...


def dumps_exact(payload: Any) -> bytes:
    """JSON with Decimals as exact numbers (``12500.00``), never through float."""
    marks: dict[str, str] = {}

    def mark(value: Any) -> Any:
        if isinstance(value, Decimal):
            key = f"__decimal_{len(marks)}__"
            marks[key] = f"{value:.2f}"
            return key
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(payload), ensure_ascii=False)
    for key, number in marks.items():
        text = text.replace(f'"{key}"', number)
    return text.encode("utf-8")


class PlanFactClient:
    def __init__(self, base_url: str, api_key: str, *, account_id: str | None = None,
                 category_ids: dict[str, str] | None = None, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout,
                                       transport=transport,
                                       headers={"X-ApiKey": api_key,
                                                "Content-Type": "application/json"})
        self.account_id = account_id
        self.category_ids = category_ids or {}

    def payload(self, outcome: Outcome) -> dict[str, Any]:
        item: dict[str, Any] = {"calculationDate": outcome.operation_date.isoformat(),
                                "value": outcome.amount}
        category = self.category_ids.get(outcome.category)
        if category:
            item["operationCategoryId"] = category
        body: dict[str, Any] = {
            "operationDate": outcome.operation_date.isoformat(),
            "isCommitted": outcome.committed,
            "comment": outcome.comment,
            "externalId": outcome.external_id,
            "contrAgentTitle": outcome.counterparty,
            "contrAgentInn": outcome.counterparty_inn,
            "items": [item],
        }
        if self.account_id:
            body["accountId"] = self.account_id
        return body

    async def save_outcome(self, outcome: Outcome, operation_id: str | None) -> str:
        content = dumps_exact(self.payload(outcome))
        try:
            if operation_id is None:
                response = await self._http.post("/api/v1/operations/outcome", content=content)
            else:
                response = await self._http.put(f"/api/v1/operations/outcome/{operation_id}",
                                                content=content)
        except httpx.HTTPError as exc:
            raise PlanFactError(f"PlanFact unreachable: {type(exc).__name__}: {exc}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code >= 400 or not answer.get("isSuccess", False):
            message = answer.get("errorMessage") or response.text[:300]
            raise PlanFactError(f"PlanFact answered {response.status_code}: {message}")
        found = (answer.get("data") or {}).get("operationId", operation_id)
        if found is None:
            raise PlanFactError("PlanFact did not return an operation id")
        return str(found)

    async def delete_outcome(self, operation_id: str) -> None:
        try:
            response = await self._http.delete(f"/api/v1/operations/{operation_id}")
        except httpx.HTTPError as exc:
            raise PlanFactError(f"PlanFact unreachable: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400 and response.status_code != 404:
            raise PlanFactError(f"PlanFact answered {response.status_code}: "
                                f"{response.text[:300]}")

    async def aclose(self) -> None:
        await self._http.aclose()


@dataclass
class FakePlanFact:
    """In-memory PlanFact for development and tests: keeps every operation it was given."""

    operations: dict[str, Outcome] = field(default_factory=dict)
    fail_with: str | None = None

    async def save_outcome(self, outcome: Outcome, operation_id: str | None) -> str:
        if self.fail_with:
            raise PlanFactError(self.fail_with)
        key = operation_id or f"fake-{uuid.uuid4().hex[:8]}"
        self.operations[key] = outcome
        return key

    async def delete_outcome(self, operation_id: str) -> None:
        if self.fail_with:
            raise PlanFactError(self.fail_with)
        self.operations.pop(operation_id, None)
