"""Domain errors every service raises; the HTTP layer turns them into problem+json."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base: a business rule refused the request. ``status`` picks the HTTP answer."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    """An illegal state transition or a duplicate; ``extra`` names the current state."""

    status = 409
    title = "Conflict"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class InvalidInput(DomainError):
    """Input that passed the schema but breaks a rule; answered as 422 naming the field."""

    status = 422
    title = "Validation failed"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", errors=[{"field": field, "message": message}])
        self.field = field
