"""What the field desks (dispatcher, technician) and their panels on the client card, the
head's dashboard and the approvals queue share: the Russian words for work orders, SLA clocks,
the week board, and who may read a client's card through a work order.

Field-ops answers with ids (client, site); the names and addresses come from contracts.
A technician may not read contracts' clients (they are nobody's manager), so for the clients
field-ops says they have orders for, the web reads contracts with a short-lived service token
in the technician's name: ``directory_services``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import Request

from clientops_shared.auth import issue_token, service_issuer
from web.adapters.services import ServiceError, Services
from web.entrypoints.pages.framework import (
    PageForbidden,
    Viewer,
    http_of,
    settings_of,
    templates,
)
from web.formatting import MOSCOW, label

WORK_ORDER_STATUS = {
    "draft": "ждёт согласования", "approved": "утверждена", "rejected": "отклонена",
    "scheduled": "назначена", "done": "выполнена", "not_done": "не выполнена",
    "cancelled": "отменена",
}

WORK_ORDER_KIND = {
    "install": "установка", "remove": "снятие", "repair": "ремонт", "reinforce": "укрепление",
    "replace": "замена", "repaint": "покраска", "maintenance": "техобслуживание",
    "emergency": "аварийный выезд",
}

EQUIPMENT_TYPE = {
    "terminal": "терминал", "barrier": "шлагбаум", "turnstile": "турникет", "boom": "стрела",
    "controller": "контроллер",
}

DOWNTIME_STATE = {"open": "открыт", "cause_found": "причина выяснена", "resolved": "устранён"}

DOWNTIME_SOURCE = {"monitoring": "мониторинг", "manual": "вручную", "client": "клиент"}

PROBLEM_STATE = {"open": "ждёт решения", "decided": "решение принято"}

# the visit windows the dispatcher agrees with the site contact
WINDOWS = ("09:00–12:00", "12:00–15:00", "15:00–18:00", "09:00–18:00")

FILTERS = {
    "work_order_status": label(WORK_ORDER_STATUS),
    "work_order_kind": label(WORK_ORDER_KIND),
    "equipment_type": label(EQUIPMENT_TYPE),
    "downtime_state": label(DOWNTIME_STATE),
    "downtime_source": label(DOWNTIME_SOURCE),
    "problem_state": label(PROBLEM_STATE),
}
templates.env.filters.update(FILTERS)

LONG_DOWNTIME = timedelta(hours=24)


def parse_moment(value: Any) -> datetime | None:
    """An ISO date or moment from an API; a bare date is that day's end in Moscow
    (an SLA "due by 15.12" lasts until midnight)."""
    if value in (None, ""):
        return None
    text = str(value)
    try:
        if len(text) <= 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1), time(0), tzinfo=MOSCOW)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=MOSCOW)


def span_ru(delta: timedelta) -> str:
    """``2 д 3 ч``, ``5 ч 10 мин``, ``40 мин`` — how long, rounded down to minutes."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} д {hours} ч"
    if hours:
        return f"{hours} ч {mins} мин"
    return f"{mins} мин"


@dataclass(frozen=True)
class SlaClock:
    deadline: datetime
    left: timedelta
    breached_at: datetime | None = None  # when field-ops' clock recorded the breach

    @property
    def breached(self) -> bool:
        return self.left <= timedelta(0) or self.breached_at is not None

    @property
    def urgent(self) -> bool:
        return not self.breached and self.left <= timedelta(hours=8)

    @property
    def text(self) -> str:
        if self.left <= timedelta(0):
            return f"просрочено на {span_ru(self.left)}"
        if self.breached_at is not None:
            return "срок нарушен"
        return f"осталось {span_ru(self.left)}"


def sla_clock(order: dict[str, Any], now: datetime) -> SlaClock | None:
    """The time left until the order's SLA moment (``due_at``; else the end of ``due_by``)."""
    deadline = parse_moment(order.get("due_at")) or parse_moment(order.get("due_by"))
    if deadline is None:
        return None
    breached_at = order.get("sla_breached_at")
    return SlaClock(deadline, deadline - now,
                    parse_moment(breached_at) if breached_at else None)


OPEN = frozenset({"draft", "approved", "scheduled", "not_done"})


def sla_rows(orders: Iterable[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Open orders with an SLA deadline, the closest (or most overdue) first."""
    rows = []
    for order in orders:
        clock = sla_clock(order, now)
        if clock is not None and order.get("status") in OPEN:
            rows.append({**order, "clock": clock})
    return sorted(rows, key=lambda r: r["clock"].left)


def sla_breaches(orders: Iterable[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Orders whose SLA was broken: recorded by field-ops' clock (whatever became of the order
    since, short of cancelled or rejected), or open with the deadline passed; latest first."""
    rows = []
    for order in orders:
        clock = sla_clock(order, now)
        if clock is None or order.get("status") in ("cancelled", "rejected"):
            continue
        if clock.breached_at is not None or (order.get("status") in OPEN and clock.breached):
            rows.append({**order, "clock": clock})
    return sorted(rows, key=lambda r: r["clock"].deadline, reverse=True)


def compliance_total(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The month's SLA across clients: emergency visits, on time, breached, still open."""
    total = {"total": 0, "on_time": 0, "breached": 0, "open": 0}
    for row in rows:
        for key in total:
            total[key] += int(row.get(key) or 0)
    closed = total["on_time"] + total["breached"]
    return {**total, "percent": round(100 * total["on_time"] / closed) if closed else None}


def downtime_hours(incident: dict[str, Any], now: datetime) -> timedelta:
    started = parse_moment(incident.get("started_at")) or now
    ended = parse_moment(incident.get("resolved_at")) or now
    return ended - started


def long_downtimes(incidents: Iterable[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Unresolved incidents open longer than a day (or escalated), the longest first."""
    rows = []
    for incident in incidents:
        if incident.get("state") == "resolved":
            continue
        lasted = downtime_hours(incident, now)
        if lasted >= LONG_DOWNTIME or incident.get("escalated_at"):
            rows.append({**incident, "lasted": span_ru(lasted)})
    return sorted(rows, key=lambda r: str(r.get("started_at")))


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")


def week_board(orders: Iterable[dict[str, Any]], start: date,
               technicians: list[dict[str, str]]) -> dict[str, Any]:
    """Scheduled visits of the week from ``start`` (a Monday): one row per technician (every
    technician, busy or not, then anyone else an order names), one cell per day."""
    days = [start + timedelta(days=i) for i in range(7)]
    names = {t["username"]: t.get("full_name") or t["username"] for t in technicians}
    cells: dict[str, dict[date, list[dict[str, Any]]]] = {}
    for order in orders:
        try:
            day = date.fromisoformat(str(order.get("visit_on"))[:10])
        except ValueError:
            continue
        if not start <= day < start + timedelta(days=7):
            continue
        who = str(order.get("technician") or "")
        cells.setdefault(who, {}).setdefault(day, []).append(order)
    people = list(names) + sorted(p for p in cells if p not in names and p)
    if "" in cells:
        people.append("")
    rows = [{"technician": p, "name": names.get(p, p) or "без техника",
             "days": [sorted(cells.get(p, {}).get(d, []), key=lambda o: str(o.get("window")))
                      for d in days],
             "count": sum(len(v) for v in cells.get(p, {}).values())}
            for p in people]
    return {"days": [{"date": d, "weekday": WEEKDAYS[d.weekday()]} for d in days],
            "rows": rows, "start": start, "prev": start - timedelta(days=7),
            "next": start + timedelta(days=7)}


def directory_services(request: Request, viewer: Viewer) -> Services:
    """Contracts as the field desks need it: a technician's own token cannot read any client
    (contracts gives them to managers), so the web reads for them under a short-lived
    service token in their name; everyone else reads as themselves."""
    if viewer.role != "technician":
        return viewer.services
    settings = settings_of(request)
    token = issue_token(settings.jwt_secret, viewer.username, "service",
                        ttl=timedelta(minutes=5),
                        issuer=service_issuer("web-desks"))  # web acting as a service
    return Services(http_of(request), settings.upstreams, token,
                     document_timeout=settings.document_timeout_seconds)


async def card_services(request: Request, viewer: Viewer, client_id: str) -> Services:
    """Who reads the client card: everyone as themselves, except a technician — they open the
    card of a client they have a work order for (field-ops decides), under the directory
    token; any other client is the 403 page."""
    if viewer.role != "technician":
        return viewer.services
    orders = await viewer.services.get("field_ops", "/api/work-orders",
                                       technician=viewer.username, client_id=client_id,
                                       limit=1)
    mine = [o for o in orders if str(o.get("technician")) == viewer.username
            and str(o.get("client_id")) == client_id]
    if not mine:
        raise PageForbidden("Карточка открывается технику только для клиентов, у которых "
                            "есть его заявки на выезд.")
    return directory_services(request, viewer)


async def places(services: Services, client_ids: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Each client's name and sites (``{client_id: {name, sites: {site_id: site}}}``) from
    contracts; a client contracts cannot give is left out (the page shows the ids' lack)."""
    ids = sorted({str(c) for c in client_ids if c})

    async def one(cid: str) -> tuple[str, dict[str, Any] | None]:
        try:
            client, sites = await asyncio.gather(
                services.get("contracts", f"/api/clients/{cid}"),
                services.get("contracts", f"/api/clients/{cid}/sites"))
        except ServiceError:
            return cid, None
        return cid, {"name": client.get("name"), "phone": client.get("phone"),
                     "sites": {str(s["id"]): s for s in sites}}

    found = await asyncio.gather(*(one(c) for c in ids))
    return {cid: value for cid, value in found if value is not None}


def unplaced(rows: Iterable[dict[str, Any]]) -> list[Any]:
    """The clients of rows field-ops did not name (it names them from its directory)."""
    return [r.get("client_id") for r in rows if not r.get("client_name")
            or not (r.get("site_name") or r.get("site_address"))]


def placed(order: dict[str, Any], where: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The order with ``client_name``, ``site_name``, ``address`` and the site's contact,
    from the order itself where field-ops gives them, else from contracts."""
    client = where.get(str(order.get("client_id")), {})
    site = client.get("sites", {}).get(str(order.get("site_id")), {})
    contact = order.get("site_contact") or {}
    return {**order,
            "client_name": order.get("client_name") or client.get("name"),
            "site_name": order.get("site_name") or site.get("name"),
            "address": order.get("address") or order.get("site_address") or site.get("address"),
            "contact_name": order.get("contact_name") or contact.get("name")
            or site.get("contact_name"),
            "contact_phone": order.get("contact_phone") or contact.get("phone")
            or site.get("contact_phone")}


def tel(phone: Any) -> str:
    """A ``tel:`` link target: digits and a leading plus only."""
    text = str(phone or "")
    return ("+" if text.strip().startswith("+") else "") + "".join(c for c in text if c.isdigit())


templates.env.filters["tel"] = tel


def now() -> datetime:
    return datetime.now(UTC)
