"""schemathesis over every service's OpenAPI (issue 9 §6): every operation, generated valid and
invalid inputs, sent with an admin and a manager token in turn. No server error, and
every answer's status and media type is documented (every 4xx as ``application/problem+json``).

The services run in this process (ASGI, their lifespan started by schemathesis on an event
loop of its own), on this run's databases; a few examples per operation and mode keep it in
``make test`` (``CLIENTOPS_SCHEMATHESIS_EXAMPLES`` raises it for a deeper run).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from clientops_shared.devtools import SERVICES
from clientops_shared.testing import Servers, settings_for

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("CLIENTOPS_SCHEMATHESIS_EXAMPLES", "4"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
ROLES = (("ops", "admin"), ("manager1", "manager"))
SKIP_PATHS = {"/metrics"}  # not part of the API (text for Prometheus)


def _app(servers: Servers, name: str) -> Any:
    svc = next(s for s in SERVICES if s.name == name)
    bootstrap = importlib.import_module(f"{svc.package}.bootstrap")
    # consumers, relay and jobs off: the run looks at the HTTP answers only
    return bootstrap.build(settings_for(servers, name, consumers_enabled=False,
                                        relay_enabled=False, jobs_enabled=False))


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_schemathesis_finds_no_server_error_and_nothing_undocumented(
        servers: Servers, service: str) -> None:
    from schemathesis.python import asgi

    schema = schemathesis.openapi.from_asgi("/openapi.json", _app(servers, service))
    tokens = [servers.auth(user, role) for user, role in ROLES]
    failures: dict[str, str] = {}
    sent = operations = 0
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path in SKIP_PATHS:
                continue
            operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=EXAMPLES, deadline=None, database=None,
                          derandomize=True, phases=[Phase.explicit, Phase.generate],
                          suppress_health_check=list(HealthCheck))
                def run(case: Any) -> None:
                    nonlocal sent
                    headers = {**(case.headers or {}), **tokens[sent % len(tokens)]}
                    sent += 1  # the roles take turns, case by case
                    # generous: a document's first render starts the worker process
                    response = case.call(headers=headers, timeout=120)
                    case.validate_response(response, checks=CHECKS, headers=headers)

                try:
                    run()
                except Unsatisfiable:
                    pass  # nothing in this operation can be made invalid (no parameters)
                except Exception as exc:  # one finding per operation and mode, all reported
                    failures[f"{operation.label} ({mode})"] = str(exc)[:1500]
    finally:
        asgi.shutdown_lifespans()
    print(f"{service}: {operations} operations, {sent} requests, {len(failures)} failing")
    assert operations > 0
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
