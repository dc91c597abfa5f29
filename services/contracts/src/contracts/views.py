"""Read side: lists for the desks (plain SQL over the contracts tables).

Every list is filtered by what the caller may see: a manager sees their own clients' records,
head, admin and back-office roles see all (``Principal.sees_all_clients``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from clientops_shared.auth import Principal
from clientops_shared.db import Reader
from clientops_shared.paging import Order, after_key, capped_count, fetch_page
from contracts.adapters.orm import (
    amendment,
    change_request,
    claim,
    client,
    contract,
    deal,
    feedback,
    interaction,
    stored_document,
)
from contracts.domain.model import IN_FORCE

Page = tuple[int, list[dict[str, Any]]]


def _visible(actor: Principal) -> sa.ColumnElement[bool]:
    return sa.true() if actor.sees_all_clients else client.c.manager == actor.username


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def _page(session: AsyncSession, base: sa.Select[Any], order: list[Any], limit: int,
                offset: int) -> Page:
    total = await capped_count(session, base)
    rows = (await session.execute(base.order_by(*order).limit(limit).offset(offset))
            ).mappings().all()
    return total, [dict(r) for r in rows]


async def client_by_id(session: Reader, client_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(sa.select(client).where(client.c.id == client_id))
           ).mappings().first()
    return dict(row) if row else None


CLIENT_ORDER = Order((client.c.name, client.c.id), ("name", "id"), (str, uuid.UUID))
"""Clients by name: the (name, id) index serves every page, however deep."""


async def clients(session: AsyncSession, actor: Principal, *, q: str | None, manager: str | None,
                  unassigned: bool, limit: int, offset: int, after: str | None = None) -> Page:
    """A page of clients (``limit + 1`` rows, for ``answer_page``) and the capped total."""
    where = [_visible(actor)]
    if q:
        where.append(sa.or_(sa.func.lower(client.c.name).like(_like(q), escape="\\"),
                            client.c.inn.like(f"{q.strip()}%")))
    if manager:
        where.append(client.c.manager == manager)
    if unassigned:
        where.append(client.c.manager.is_(None))
    return await fetch_page(session, sa.select(client).where(*where), CLIENT_ORDER, limit,
                            offset, after)


async def contracts(session: AsyncSession, actor: Principal, *, client_id: uuid.UUID | None,
                    status: str | None, kind: str | None, q: str | None, limit: int,
                    offset: int) -> Page:
    where = [_visible(actor)]
    if client_id:
        where.append(contract.c.client_id == client_id)
    if status:
        where.append(contract.c.status == status)
    if kind:
        where.append(contract.c.kind == kind)
    if q:
        where.append(sa.or_(contract.c.number.like(f"{q.strip()}%"),
                            sa.func.lower(client.c.name).like(_like(q), escape="\\")))
    base = sa.select(contract).join(client, client.c.id == contract.c.client_id).where(*where)
    return await _page(session, base, [contract.c.number], limit, offset)


async def expiring(session: AsyncSession, actor: Principal, today: date, within_days: int
                   ) -> list[dict[str, Any]]:
    """Contracts in force ending within ``within_days``: renews itself, or needs re-signing.

    A contract already replaced by a signed successor, or terminated ahead, is not listed.
    """
    horizon = today + timedelta(days=within_days)
    terminating = sa.exists().where(amendment.c.contract_id == contract.c.id,
                                    amendment.c.status == "scheduled",
                                    amendment.c.kind == "termination")
    rows = (await session.execute(
        sa.select(contract.c.id, contract.c.number, contract.c.client_id, contract.c.ends_on,
                  contract.c.auto_renew, contract.c.kind, contract.c.status,
                  contract.c.monthly_fee, client.c.name.label("client_name"), client.c.manager,
                  client.c.last_contact_on)
        .join(client, client.c.id == contract.c.client_id)
        .where(_visible(actor), contract.c.status.in_([s.value for s in IN_FORCE]),
               contract.c.ends_on.is_not(None), contract.c.ends_on >= today,
               contract.c.ends_on <= horizon, contract.c.replaced_by_id.is_(None),
               ~terminating)
        .order_by(contract.c.ends_on, contract.c.number))).mappings().all()
    return [{**dict(r), "days_left": (r["ends_on"] - today).days,
             "action": "auto_renew" if r["auto_renew"] else "re_sign"} for r in rows]


async def amendments(session: AsyncSession, contract_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = (await session.execute(sa.select(amendment).where(
        amendment.c.contract_id == contract_id).order_by(amendment.c.number))).mappings().all()
    return [dict(r) for r in rows]


async def change_requests(session: AsyncSession, actor: Principal, *, state: str | None,
                          contract_id: uuid.UUID | None, client_id: uuid.UUID | None,
                          limit: int, offset: int) -> Page:
    where = [_visible(actor)]
    if state:
        where.append(change_request.c.state == state)
    if contract_id:
        where.append(change_request.c.contract_id == contract_id)
    if client_id:
        where.append(change_request.c.client_id == client_id)
    base = (sa.select(change_request).join(client, client.c.id == change_request.c.client_id)
            .where(*where))
    return await _page(session, base, [change_request.c.received_on, change_request.c.id],
                       limit, offset)


async def claims(session: AsyncSession, actor: Principal, *, q: str | None,
                 client_id: uuid.UUID | None, stage: str | None, lawyer: str | None,
                 churn_risk: bool | None, limit: int, offset: int) -> Page:
    where = [_visible(actor)]
    if q:
        where.append(sa.or_(sa.func.lower(claim.c.subject).like(_like(q), escape="\\"),
                            sa.func.lower(claim.c.description).like(_like(q), escape="\\"),
                            sa.func.lower(client.c.name).like(_like(q), escape="\\")))
    if client_id:
        where.append(claim.c.client_id == client_id)
    if stage:
        where.append(claim.c.stage == stage)
    if lawyer:
        where.append(claim.c.lawyer == lawyer)
    if churn_risk is not None:
        where.append(claim.c.churn_risk.is_(churn_risk))
    base = sa.select(claim).join(client, client.c.id == claim.c.client_id).where(*where)
    return await _page(session, base, [claim.c.answer_due_on.nulls_last(), claim.c.id],
                       limit, offset)


async def deals(session: AsyncSession, actor: Principal, *, q: str | None,
                client_id: uuid.UUID | None, stage: str | None, owner: str | None,
                limit: int, offset: int) -> Page:
    where: list[Any] = [sa.or_(_visible(actor), deal.c.owner == actor.username)]
    if q:
        where.append(sa.or_(sa.func.lower(deal.c.title).like(_like(q), escape="\\"),
                            sa.func.lower(deal.c.equipment).like(_like(q), escape="\\"),
                            sa.func.lower(client.c.name).like(_like(q), escape="\\")))
    if client_id:
        where.append(deal.c.client_id == client_id)
    if stage:
        where.append(deal.c.stage == stage)
    if owner:
        where.append(deal.c.owner == owner)
    base = sa.select(deal).join(client, client.c.id == deal.c.client_id).where(*where)
    return await _page(session, base, [deal.c.created_at.desc(), deal.c.id], limit, offset)


async def feedback_list(session: AsyncSession, actor: Principal, *, q: str | None,
                        client_id: uuid.UUID | None, kind: str | None, limit: int,
                        offset: int) -> Page:
    where = [_visible(actor)]
    if q:
        where.append(sa.or_(sa.func.lower(feedback.c.text).like(_like(q), escape="\\"),
                            sa.func.lower(client.c.name).like(_like(q), escape="\\")))
    if client_id:
        where.append(feedback.c.client_id == client_id)
    if kind:
        where.append(feedback.c.kind == kind)
    base = sa.select(feedback).join(client, client.c.id == feedback.c.client_id).where(*where)
    return await _page(session, base, [feedback.c.recorded_on.desc(), feedback.c.id], limit,
                       offset)


async def interactions(session: AsyncSession, client_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = (await session.execute(sa.select(interaction).where(
        interaction.c.client_id == client_id).order_by(interaction.c.on.desc(),
                                                       interaction.c.created_at.desc()))
            ).mappings().all()
    return [dict(r) for r in rows]


async def documents(session: AsyncSession, *, client_id: uuid.UUID | None = None,
                    contract_id: uuid.UUID | None = None, claim_id: uuid.UUID | None = None
                    ) -> list[dict[str, Any]]:
    where = []
    if client_id:
        where.append(stored_document.c.client_id == client_id)
    if contract_id:
        where.append(stored_document.c.contract_id == contract_id)
    if claim_id:
        where.append(stored_document.c.claim_id == claim_id)
    rows = (await session.execute(sa.select(stored_document).where(*where).order_by(
        stored_document.c.created_at))).mappings().all()
    return [dict(r) for r in rows]


TIMELINE_KEY = (datetime, uuid.UUID)


async def timeline(session: AsyncSession, client_id: uuid.UUID, limit: int,
                   after: tuple[Any, ...] | None = None) -> list[dict[str, Any]]:
    """A page of the client's life at the contracts desk, newest first (``limit + 1`` rows:
    the extra one means more; ``after`` is the (at, entity_id) of the previous page's last).

    Each part reads only its newest ``limit + 1`` rows after the cursor, through its
    (client_id, created_at, id) index where the client's rows grow (contacts, scans, feedback),
    so the page costs the same for ten entries or ten thousand."""

    def newest(select: sa.Select[Any], at: sa.ColumnElement[Any], id_: sa.ColumnElement[Any]
               ) -> sa.Select[Any]:
        if after is not None:
            select = select.where(after_key((at, id_), after, (True, True)))
        return select.order_by(at.desc(), id_.desc()).limit(limit + 1)

    def part(table: sa.Table, type_: str, summary: sa.ColumnElement[Any]) -> sa.Select[Any]:
        return newest(sa.select(table.c.created_at.label("at"), sa.literal(type_).label("type"),
                                summary.label("summary"), sa.literal(table.name).label("entity"),
                                table.c.id.label("entity_id"))
                      .where(table.c.client_id == client_id), table.c.created_at, table.c.id)

    c, a = contract, amendment
    parts = [
        part(c, "contract", sa.func.concat("Договор № ", c.c.number, " (", c.c.kind, "), ",
                                           c.c.status)),
        newest(sa.select(a.c.created_at.label("at"), sa.literal("amendment").label("type"),
                         sa.func.concat("Изменение № ", a.c.number, " к договору № ",
                                        c.c.number, ": ", a.c.kind, " с ", a.c.effective_on
                                        ).label("summary"),
                         sa.literal("amendment").label("entity"), a.c.id.label("entity_id"))
               .join(c, c.c.id == a.c.contract_id).where(c.c.client_id == client_id),
               a.c.created_at, a.c.id),
        part(change_request, "change_request",
             sa.func.concat("Запрос на изменение: ", change_request.c.summary, " — ",
                            change_request.c.state)),
        part(claim, "claim", sa.func.concat("Претензия: ", claim.c.subject, " — ",
                                            claim.c.stage)),
        part(deal, "deal", sa.func.concat("Сделка: ", deal.c.title, " — ", deal.c.stage)),
        part(feedback, "feedback", sa.func.concat(feedback.c.kind, ": ", feedback.c.text)),
        part(interaction, "interaction",
             sa.func.concat(interaction.c.channel, ": ", interaction.c.summary)),
        part(stored_document, "document",
             sa.func.concat(stored_document.c.kind, ": ", stored_document.c.filename)),
    ]
    union = sa.union_all(*[sa.select(p.subquery()) for p in parts]).subquery()
    rows = (await session.execute(sa.select(union).order_by(
        union.c.at.desc(), union.c.entity_id.desc()).limit(limit + 1))).mappings()
    return [dict(r) for r in rows]
