"""Onboarding (000 §6, 7): the client's cloud and the training session."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from clientops_shared.errors import Conflict, InvalidInput, NotFound
from clientops_shared.events import contracts as c
from clientops_shared.events import field_ops as ev
from field_ops.adapters import orm
from field_ops.adapters.cloud_admin import CloudAdmin, CloudAdminError
from field_ops.service_layer.unit_of_work import FieldOpsUnitOfWork

TENANT_LABELS = {"requested": "Согласовать адрес", "url_agreed": "Адрес согласован",
                 "provisioned": "Облако создано"}
TRAINING_LABELS = {"scheduled": "Назначено", "done": "Проведено", "cancelled": "Отменено"}
CLOUD_KINDS = frozenset({"subscription", "pilot"})


async def request_tenant(uow: FieldOpsUnitOfWork, event: c.ContractSigned) -> None:
    """A signed cloud subscription: the client's cloud is to be made (once per client)."""
    if event.kind not in CLOUD_KINDS or event.replaces_id is not None or event.site_id is None:
        return
    site = await uow.row(orm.sites, orm.sites.c.site_id == event.site_id)
    if site is None or (site["server_format"] or "cloud") != "cloud":
        return
    t = orm.cloud_tenant
    await uow.session.execute(insert(t).values(
        id=uuid.uuid4(), client_id=event.client_id, contract_id=event.contract_id,
        state="requested").on_conflict_do_nothing(index_elements=[t.c.client_id]))


async def tenant(uow: FieldOpsUnitOfWork, tenant_id: uuid.UUID, *, for_update: bool = False
                 ) -> dict[str, Any]:
    t = orm.cloud_tenant
    stmt = sa.select(t).where(t.c.id == tenant_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await uow.session.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound(f"Облако {tenant_id} не найдено")
    return dict(row)


def _conflict(row: dict[str, Any], what: str) -> Conflict:
    return Conflict(f"Нельзя {what}: «{TENANT_LABELS[row['state']]}»",
                    current_state=row["state"], current_state_label=TENANT_LABELS[row["state"]])


async def agree_url(uow: FieldOpsUnitOfWork, tenant_id: uuid.UUID, subdomain: str,
                    domain: str) -> dict[str, Any]:
    row = await tenant(uow, tenant_id, for_update=True)
    if row["state"] == "provisioned":
        raise _conflict(row, "менять адрес созданного облака")
    url = f"https://{subdomain}.{domain}"
    t = orm.cloud_tenant.c
    taken = await uow.row(orm.cloud_tenant, t.url == url, t.id != tenant_id)
    if taken is not None:
        raise InvalidInput("subdomain", "этот адрес уже занят другим клиентом")
    await uow.session.execute(orm.cloud_tenant.update().where(t.id == tenant_id).values(
        url=url, state="url_agreed"))
    uow.audit("cloud_tenant.url_agreed", "cloud_tenant", tenant_id, before={"url": row["url"]},
              after={"url": url})
    await uow.commit()
    return {**row, "url": url, "state": "url_agreed"}


async def provision(uow: FieldOpsUnitOfWork, admin: CloudAdmin, tenant_id: uuid.UUID,
                    actor: str, now: datetime) -> dict[str, Any]:
    """Create the cloud and our support account; the client's first-login password travels
    once in ``field_ops.cloud_tenant.provisioned`` (notifications mails it) and nowhere else."""
    row = await tenant(uow, tenant_id, for_update=True)
    if row["state"] != "url_agreed":
        raise _conflict(row, "создать облако")
    client = await uow.row(orm.clients, orm.clients.c.client_id == row["client_id"])
    subdomain = str(row["url"]).removeprefix("https://").split(".", 1)[0]
    try:
        made = await admin.create_tenant(subdomain=subdomain,
                                         client_name=client["name"] if client else subdomain)
    except CloudAdminError as exc:
        raise Conflict(str(exc), current_state=row["state"]) from None
    t = orm.cloud_tenant.c
    await uow.session.execute(orm.cloud_tenant.update().where(t.id == tenant_id).values(
        state="provisioned", login=made.login, tenant_ref=made.ref, url=made.url,
        support_account=made.support_account, provisioned_at=now, provisioned_by=actor))
    uow.emit(ev.CloudTenantProvisioned(client_id=row["client_id"], url=made.url,
                                       login=made.login, password=made.password))
    uow.audit("cloud_tenant.provisioned", "cloud_tenant", tenant_id,
              after={"url": made.url, "login": made.login, "tenant_ref": made.ref})
    await uow.commit()
    return {**row, "state": "provisioned", "url": made.url, "login": made.login,
            "tenant_ref": made.ref, "support_account": made.support_account,
            "provisioned_at": now, "provisioned_by": actor}


async def scrub_sent_credentials(uow: FieldOpsUnitOfWork) -> int:
    """Once the relay has published a credentials event, its outbox copy loses the secret."""
    o = uow.tables.outbox
    result = await uow.session.execute(
        o.update().where(o.c.routing_key == ev.CloudTenantProvisioned.TYPE,
                         o.c.sent_at.is_not(None),
                         o.c.body["payload"]["password"].astext != "***")
        .values(body=sa.func.jsonb_set(o.c.body,
                                       sa.literal_column("'{payload,password}'::text[]"),
                                       sa.literal_column("'\"***\"'::jsonb"))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- training (000 §7) -----------------------------------------------------------------------
async def training(uow: FieldOpsUnitOfWork, session_id: uuid.UUID) -> dict[str, Any]:
    s = orm.training_session
    row = (await uow.session.execute(sa.select(s).where(s.c.id == session_id).with_for_update())
           ).mappings().first()
    if row is None:
        raise NotFound(f"Обучение {session_id} не найдено")
    return dict(row)


def _scheduled_event(row: dict[str, Any]) -> ev.TrainingScheduled:
    return ev.TrainingScheduled(session_id=row["id"], client_id=row["client_id"],
                                starts_at=row["starts_at"], topic=row["topic"],
                                duration_minutes=row["duration_minutes"],
                                meeting_url=row["meeting_url"])


async def book_training(uow: FieldOpsUnitOfWork, actor: str, values: dict[str, Any],
                        now: datetime) -> dict[str, Any]:
    if await uow.row(orm.clients, orm.clients.c.client_id == values["client_id"]) is None:
        raise InvalidInput("client_id", "клиент не найден")
    if values["starts_at"] <= now:
        raise InvalidInput("starts_at", "время обучения уже прошло")
    row = {"id": uuid.uuid4(), **values, "state": "scheduled", "created_by": actor}
    await uow.session.execute(orm.training_session.insert().values(**row))
    uow.emit(_scheduled_event(row))
    uow.audit("training.booked", "training", row["id"], after=row)
    await uow.commit()
    return {**row, "reschedule_count": 0}


async def move_training(uow: FieldOpsUnitOfWork, session_id: uuid.UUID, starts_at: datetime,
                        now: datetime) -> dict[str, Any]:
    row = await training(uow, session_id)
    if row["state"] != "scheduled":
        raise Conflict("Перенести можно только назначенное обучение",
                       current_state=row["state"])
    if starts_at <= now:
        raise InvalidInput("starts_at", "время обучения уже прошло")
    row.update(starts_at=starts_at, reschedule_count=row["reschedule_count"] + 1)
    await uow.session.execute(orm.training_session.update().where(
        orm.training_session.c.id == session_id).values(
        starts_at=starts_at, reschedule_count=row["reschedule_count"]))
    uow.emit(_scheduled_event(row))
    uow.audit("training.moved", "training", session_id, after={"starts_at": starts_at})
    await uow.commit()
    return row


async def complete_training(uow: FieldOpsUnitOfWork, session_id: uuid.UUID,
                            recording_url: str | None, now: datetime) -> dict[str, Any]:
    row = await training(uow, session_id)
    if row["state"] != "scheduled":
        raise Conflict("Обучение уже закрыто", current_state=row["state"])
    if row["starts_at"] > now:
        raise Conflict("Обучение ещё не началось", current_state=row["state"])
    row.update(state="done", recording_url=recording_url or row["recording_url"])
    await uow.session.execute(orm.training_session.update().where(
        orm.training_session.c.id == session_id).values(state="done",
                                                         recording_url=row["recording_url"]))
    uow.emit(ev.TrainingCompleted(session_id=session_id, client_id=row["client_id"]))
    uow.audit("training.completed", "training", session_id, after={"state": "done"})
    await uow.commit()
    return row


async def note_training(uow: FieldOpsUnitOfWork, session_id: uuid.UUID, values: dict[str, Any]
                        ) -> dict[str, Any]:
    """Recording link, feedback, the technical questionnaire for support."""
    row = await training(uow, session_id)
    if "feedback" in values and row["state"] != "done":
        raise Conflict("Обратную связь собирают после обучения", current_state=row["state"])
    await uow.session.execute(orm.training_session.update().where(
        orm.training_session.c.id == session_id).values(**values))
    uow.audit("training.noted", "training", session_id, after=values)
    await uow.commit()
    return {**row, **values}
