"""Russian e-mail templates (Jinja2) and the number and date formats they use.

Each template is a pair `templates/mail/<name>.txt` and `<name>.html`; the text part sets the
subject with `{% set subject %}…{% endset %}`, so wording lives in one place per mail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, wraps
from typing import Any, TypeVar

from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    Undefined,
    UndefinedError,
    select_autoescape,
)

from clientops_shared.ru import MONTHS
from notifications.domain.model import MOSCOW

TEMPLATE_NAMES: frozenset[str] = frozenset(
    {
        "invoice_issued",
        "invoice_resent",
        "training_invitation",
        "cloud_credentials",
        "visit_confirmation",
        "renewal_notice",
        "escalation",
        "daily_digest",
        "request_answered",
    }
)

_T = TypeVar("_T")


class MailTemplateError(ValueError):
    """A template is unknown or its context lacks something it prints."""


def as_amount(value: Any) -> Decimal:
    """An amount as it travels in an event (a decimal string) to a Decimal, for sums."""
    if isinstance(value, bool | float):
        raise MailTemplateError(f"amount must be Decimal, int or a decimal string, not {value!r}")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise MailTemplateError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise MailTemplateError(f"not an amount: {value!r}")
    return amount


def format_money(value: Any) -> str:
    """12345.67 -> '12 345,67 ₽' (Russian grouping, comma decimals, two places)."""
    if isinstance(value, bool | float):
        # floats carry binary error; amounts travel as decimal strings
        raise MailTemplateError(f"amount must be Decimal, int or a decimal string, not {value!r}")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise MailTemplateError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise MailTemplateError(f"not an amount: {value!r}")
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, _, cents = f"{abs(amount):.2f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{' '.join(groups)},{cents} ₽"


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(MOSCOW).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            return _as_datetime(text).date()
    raise MailTemplateError(f"not a date: {value!r}")


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise MailTemplateError(f"not a date-time: {value!r}") from None
    else:
        raise MailTemplateError(f"not a date-time: {value!r}")
    # events carry UTC; people read Moscow time
    return moment.astimezone(MOSCOW) if moment.tzinfo else moment.replace(tzinfo=MOSCOW)


def format_date(value: Any) -> str:
    """2026-12-15 -> '15.12.2026'; a date-time is shown as its Moscow date."""
    return _as_date(value).strftime("%d.%m.%Y")


def format_datetime(value: Any) -> str:
    """A moment as '15.12.2026 10:30' in Moscow time."""
    return _as_datetime(value).strftime("%d.%m.%Y %H:%M")


def format_period(value: Any) -> str:
    """'2026-12' -> 'декабрь 2026'."""
    text = str(value)
    try:
        year, month = (int(part) for part in text.split("-")[:2])
        name = MONTHS[month - 1]
    except (ValueError, IndexError):
        raise MailTemplateError(f"not a period YYYY-MM: {value!r}") from None
    return f"{name} {year}"




def _strict(formatter: Callable[[Any], _T]) -> Callable[[Any], _T]:
    # a filter gets an Undefined instead of raising: make a missing field fail as missing
    @wraps(formatter)
    def checked(value: Any) -> _T:
        if isinstance(value, Undefined):
            str(value)  # StrictUndefined raises UndefinedError naming the field
            raise UndefinedError("a value the template prints is undefined")
        return formatter(value)

    return checked


@cache
def _environment() -> Environment:
    # StrictUndefined: a missing field fails loudly instead of mailing a blank to a client
    env = Environment(
        loader=PackageLoader("notifications", "templates/mail"),
        undefined=StrictUndefined,
        # escapes the .html parts only; the plain-text parts go out as written
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        # arithmetic on amounts in a template (what is left to pay), exact: Decimal only
        amount=_strict(as_amount),
        money=_strict(format_money),
        date=_strict(format_date),
        datetime=_strict(format_datetime),
        period=_strict(format_period),
    )
    return env


def render_mail(name: str, **context: Any) -> tuple[str, str, str]:
    """Render template `name` into (subject, plain text, HTML)."""
    if name not in TEMPLATE_NAMES:
        raise MailTemplateError(
            f"unknown mail template {name!r}; known: {', '.join(sorted(TEMPLATE_NAMES))}"
        )
    try:
        text_module = _environment().get_template(f"{name}.txt").make_module(context)
        html = _environment().get_template(f"{name}.html").render(context)
    except UndefinedError as exc:
        raise MailTemplateError(f"mail template {name!r}: {exc.message}") from exc
    except MailTemplateError as exc:
        raise MailTemplateError(f"mail template {name!r}: {exc}") from exc
    subject = " ".join(str(getattr(text_module, "subject", "")).split())
    if not subject:
        raise MailTemplateError(f"mail template {name!r} sets no subject")
    return subject, str(text_module).strip() + "\n", html
