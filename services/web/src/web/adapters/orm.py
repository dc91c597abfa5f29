from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry

from clientops_shared.db import make_metadata, shared_tables
from web.domain import model

metadata = make_metadata()
shared = shared_tables(metadata)
mapper_registry = registry(metadata=metadata)

user_account = sa.Table(
    "user_account", metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("full_name", sa.Text, nullable=False, server_default=""),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("token_version", sa.Integer, nullable=False, server_default="0"),
)

token_revocation = metadata.tables["token_revocation"]  # from shared_tables

# failed log-ins per key ("user:<name>" or "addr:<client address>"), for back-off
login_throttle = sa.Table(
    "login_throttle", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("blocked_until", sa.DateTime(timezone=True)),
)

web_session = sa.Table(
    "web_session", metadata,
    sa.Column("id_hash", sa.Text, primary_key=True),
    sa.Column("username", sa.Text, sa.ForeignKey("user_account.username", ondelete="CASCADE"),
              nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("csrf_token", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("web_session_username_idx", "username"),
)

_mapped = False


def start_mappers() -> None:
    global _mapped
    if not _mapped:
        mapper_registry.map_imperatively(model.User, user_account)
        mapper_registry.map_imperatively(model.WebSession, web_session)
        _mapped = True
