"""A service killed outright (SIGKILL, the OOM killer) does not leave its worker processes
behind: each exits once its parent is gone (issue 9 §4, found by the fault suite's SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.unit

SERVICE = """
import asyncio, os
from clientops_shared import offload

async def main() -> None:
    pid = await offload.in_worker_process(os.getpid)
    print(pid, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_services_workers_exit_by_themselves() -> None:
    service = subprocess.Popen([sys.executable, "-c", SERVICE], stdout=subprocess.PIPE,
                               text=True)
    assert service.stdout is not None
    worker = int(service.stdout.readline())
    assert worker != service.pid and _alive(worker)
    service.send_signal(signal.SIGKILL)
    service.wait(timeout=30)
    deadline = time.monotonic() + 60  # a generous bound on a busy machine: not a speed test
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(worker), f"worker {worker} outlived its killed service"
