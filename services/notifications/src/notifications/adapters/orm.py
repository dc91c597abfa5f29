"""Tables of the notifications database: the work queue, escalations, mail, the timeline."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import registry

from clientops_shared.db import make_metadata, shared_tables, text_enum
from clientops_shared.projections import client_directory
from notifications.domain import model

metadata = make_metadata()
shared = shared_tables(metadata)
clients = client_directory(metadata)
mapper_registry = registry(metadata=metadata)
_ts = sa.DateTime(timezone=True)



task = sa.Table(
    "task", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("action", text_enum(model.TaskAction), nullable=False),
    sa.Column("function", text_enum(model.Function), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("assignee", sa.Text, nullable=False),
    sa.Column("due_at", _ts, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("priority", text_enum(model.Priority), nullable=False),
    sa.Column("client_id", sa.Text),
    sa.Column("dedupe_key", sa.Text),
    sa.Column("source_event", sa.Text),
    sa.Column("source_event_id", sa.Text),
    sa.Column("state", text_enum(model.TaskState), nullable=False),
    sa.Column("outcome", sa.Text),
    sa.Column("done_at", _ts),
    sa.Column("snoozed_until", _ts),
    sa.Column("updated_at", _ts),
)
sa.Index("task_assignee_state_idx", task.c.assignee, task.c.state)
sa.Index("task_client_idx", task.c.client_id)
sa.Index("task_key_idx", task.c.kind, task.c.dedupe_key)
# at most one active task per (kind, key): a repeat event updates instead of stacking
sa.Index("task_active_key_uidx", task.c.kind, task.c.dedupe_key, unique=True,
         postgresql_where=sa.and_(task.c.dedupe_key.is_not(None),
                                  task.c.state.in_(("open", "snoozed"))))

# One row per escalation cause: the unique key is what makes "escalates once" hold.
escalation = sa.Table(
    "escalation", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("head", sa.Text, nullable=False),
    sa.Column("client_id", sa.Text),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("task_id", UUID(as_uuid=True)),
    sa.Column("raised_at", _ts, nullable=False),
)

mail_delivery = sa.Table(
    "mail_delivery", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("template", sa.Text, nullable=False),
    sa.Column("to", sa.Text, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("dedupe_key", sa.Text, unique=True),
    sa.Column("state", text_enum(model.DeliveryState), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", _ts),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", _ts),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    # rendering input with secrets masked; secrets are never written here
    sa.Column("context", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("attachments", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("client_id", sa.Text),
)

timeline_entry = sa.Table(
    "timeline_entry", metadata,
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", sa.Text, nullable=False),
    sa.Column("at", _ts, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("producer", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
)
sa.Index("timeline_entry_client_at_idx", timeline_entry.c.client_id, timeline_entry.c.at)

_mapped = False


def start_mappers() -> None:
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(model.Task, task)
    mapper_registry.map_imperatively(model.MailDelivery, mail_delivery, exclude_properties=[
        "context", "attachments", "client_id"])
    _mapped = True
