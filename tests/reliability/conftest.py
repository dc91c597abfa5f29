"""Fixtures of the fault suite: one set of private servers per run, the table at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import FULL, RESULTS, RESULTS_FILE, Faulty, faulty_servers, save_results, table


@pytest.fixture(scope="session")
def faulty_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faulty]:
    with faulty_servers(tmp_path_factory.mktemp("fault-logs")) as faulty:
        yield faulty


@pytest.fixture
def faulty(faulty_base: Faulty, tmp_path: Path) -> Iterator[Faulty]:
    """The private servers (whatever earlier scenarios left down on them started again), their
    service queues purged. The services a scenario starts are resumed at its end and stay up
    for the next scenario that asks for the same ones (``Faulty.start``)."""
    faulty_base.log_dir = tmp_path
    faulty_base.pg.start_if_down()
    faulty_base.rabbit.start_if_down()
    faulty_base.rabbit.purge_service_queues()
    try:
        yield faulty_base
    finally:
        if faulty_base.system is not None:
            faulty_base.resume_all()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Full-size scenarios outlast the suite-wide 300 s test timeout: a 10,000-event backlog
    drains at ~17 events/s on a quiet 2-core machine and at 2–4/s at load 15 (measured
    2026-11-27: 1500 s was not enough there). The limit only catches a hung scenario."""
    for item in items:
        if FULL and "faulty" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(2400))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RESULTS:
        size = "full" if FULL else "smoke"
        terminalreporter.write_sep("=", f"fault suite ({size}): every item sorted")
        terminalreporter.write_line(table(RESULTS))


def pytest_sessionfinish(session: pytest.Session) -> None:
    if RESULTS_FILE:
        save_results(RESULTS_FILE)
