"""The only place that reads settings and wires the notifications service together."""

from __future__ import annotations

from fastapi import FastAPI

from clientops_shared.runtime import ServiceRuntime
from notifications.adapters import orm
from notifications.config import NotificationsSettings
from notifications.domain.rules import default_rules
from notifications.entrypoints.api.routes import router
from notifications.entrypoints.messaging import build_handlers
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork


def build(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    orm.start_mappers()
    handlers = build_handlers(default_rules(), settings.head_username)
    runtime = ServiceRuntime(settings, orm.metadata, NotificationsUnitOfWork, handlers)
    return runtime.create_app("ClientOps notifications", [router])
