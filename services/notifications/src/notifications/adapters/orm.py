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
sa.Index("task_due_idx", task.c.due_at, postgresql_where=task.c.state == "open")
sa.Index("task_done_idx", task.c.done_at)
# a task's priority as a number (higher: more pressing), its values written into the SQL,
# not bound: the my-day index below holds this expression, and a query uses an expression
# index only with the identical expression
PRIORITY_RANK = sa.case(*[(task.c.priority == sa.literal_column(f"'{p.value}'"),
                           sa.literal_column(str(p.rank))) for p in model.Priority])
# my day: a person's workable tasks in the page's order (due time, the more pressing first),
# so a page reads its 50 rows off the index instead of sorting every task due today or before
sa.Index("task_assignee_due_rank_idx", task.c.assignee, task.c.due_at, PRIORITY_RANK.desc(),
         task.c.id, postgresql_where=task.c.state.in_(("open", "snoozed")))
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
    sa.Column("message_id", sa.Text),
    sa.Column("updated_at", _ts),
)
sa.Index("mail_delivery_due_idx", mail_delivery.c.next_attempt_at,
         postgresql_where=mail_delivery.c.state == "pending")
sa.Index("mail_delivery_client_idx", mail_delivery.c.client_id)

# Duties an event ended for good (a paid invoice's reminders): a late event never restarts them.
finished_duty = sa.Table(
    "finished_duty", metadata,
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("dedupe_key", sa.Text, primary_key=True),
    sa.Column("finished_at", _ts, nullable=False),
    sa.Column("source_event", sa.Text, nullable=False),
)

# Staff e-mail addresses for `user:<name>` recipients, kept by the admin.
staff_member = sa.Table(
    "staff_member", metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("full_name", sa.Text),
    sa.Column("digest", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", _ts, nullable=False, server_default=sa.text("now()")),
)

# The head's bulk moves of work, with what they moved: the history of who carried what.
assignment = sa.Table(
    "assignment", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("at", _ts, nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("client_id", sa.Text),
    sa.Column("function", text_enum(model.Function)),
    sa.Column("from_assignee", sa.Text),
    sa.Column("to_assignee", sa.Text, nullable=False),
    sa.Column("standing", sa.Boolean, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("moved", sa.Integer, nullable=False),
    sa.Column("task_ids", JSONB, nullable=False),
)
sa.Index("assignment_at_idx", assignment.c.at)

# Standing moves: new tasks of a function meant for one person (or anyone: '*') go to another.
routing_override = sa.Table(
    "routing_override", metadata,
    sa.Column("function", text_enum(model.Function), primary_key=True),
    sa.Column("from_assignee", sa.Text, primary_key=True),
    sa.Column("to_assignee", sa.Text, nullable=False),
    sa.Column("assignment_id", UUID(as_uuid=True), nullable=False),
    sa.Column("created_at", _ts, nullable=False),
)
ANY_ASSIGNEE = "*"

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
sa.Index("timeline_entry_client_at_idx", timeline_entry.c.client_id, timeline_entry.c.at,
         timeline_entry.c.event_id)

# Clients' requests (обращения): the journal, numbered per year without gaps.
client_request = sa.Table(
    "client_request", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("number", sa.Text, nullable=False, unique=True),
    sa.Column("client_id", UUID(as_uuid=True), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("function", text_enum(model.Function), nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("registered_by", sa.Text, nullable=False),
    sa.Column("registered_at", _ts, nullable=False),
    sa.Column("answer", sa.Text),
    sa.Column("answered_by", sa.Text),
    sa.Column("answered_at", _ts),
)
sa.Index("client_request_client_idx", client_request.c.client_id, client_request.c.registered_at)
sa.Index("client_request_open_idx", client_request.c.function, client_request.c.registered_at,
         postgresql_where=client_request.c.state == "open")

request_journal = sa.Table(
    "request_journal", metadata,
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("last_seq", sa.Integer, nullable=False),
)

_mapped = False


def start_mappers() -> None:
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(model.Task, task)
    mapper_registry.map_imperatively(model.MailDelivery, mail_delivery, exclude_properties=[
        "context", "attachments", "client_id", "message_id", "updated_at"])
    _mapped = True
