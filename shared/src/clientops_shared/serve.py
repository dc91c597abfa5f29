"""Run one service process with uvicorn; Ctrl-C / SIGTERM stop it cleanly."""

from __future__ import annotations

import sys

import uvicorn

from clientops_shared.logs import setup_logging
from clientops_shared.settings import InsecureSettings, ServiceSettings, check_secrets


def serve(settings: ServiceSettings, factory: str) -> None:
    try:
        check_secrets(settings)
    except InsecureSettings as exc:
        sys.exit(str(exc))  # the message on stderr, exit status 1
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    uvicorn.run(factory, factory=True, host=settings.host, port=settings.port,
                log_config=None, access_log=False, timeout_graceful_shutdown=10)
