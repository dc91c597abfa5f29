"""The process's log lines: a PDF render (WeasyPrint, fontTools) adds none of its INFO chatter
to a service's log, while warnings still come through; every line is JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

RENDER = """
import logging
from clientops_shared.logs import setup_logging
setup_logging("billing")
import weasyprint
weasyprint.HTML(string="<h1>Счёт № 2026-0001</h1><p>Итого 18 300,00 ₽</p>").write_pdf()
logging.getLogger("fontTools.subset").info("maxp pruned")
logging.getLogger("fontTools.ttLib").warning("a font table is broken")
logging.getLogger("clientops.test").info("the service's own line")
"""


def test_a_pdf_render_leaves_only_warnings_of_weasyprint_and_fonttools_in_the_log() -> None:
    done = subprocess.run([sys.executable, "-c", RENDER], capture_output=True, text=True,
                          timeout=120, check=True)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    loggers = [(x["logger"], x["level"]) for x in lines]
    assert ("clientops.test", "info") in loggers
    assert ("fontTools.ttLib", "warning") in loggers
    chatter = [x for x in lines if x["logger"].split(".")[0] in ("weasyprint", "fontTools")
               and x["level"] in ("debug", "info")]
    assert chatter == []
