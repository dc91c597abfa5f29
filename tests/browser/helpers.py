"""Small helpers the browser tests share (valid test INNs, waiting on pages that settle)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from playwright.sync_api import Page

# a rendered document (PDF, DOCX, XLSX, 1C XML) waits as long as the web waits for it
# (WEB_DOCUMENT_TIMEOUT_SECONDS): on a loaded machine rendering takes longer than a page
DOCUMENT_MS = 60_000

# a generator of its own: pytest-randomly reseeds the global one before every test
_rng = random.Random()


def inn10() -> str:
    """A random legal-entity INN with a correct check digit (the contracts API checks it)."""
    digits = [_rng.randint(1, 9)] + [_rng.randint(0, 9) for _ in range(8)]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


def reload_until(page: Page, check: Callable[[], bool], timeout: float = 30.0,
                 interval: float = 1.0) -> None:
    """Reload until ``check`` holds: the pages show what the events have settled so far."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{page.url} did not show it within {timeout}s")
        time.sleep(interval)
        page.reload()


def rub(amount: str) -> str:
    """``15250.00`` as the pages write it: ``15 250,00 ₽`` with non-breaking spaces."""
    whole, _, cents = f"{float(amount):.2f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return "\u00a0".join(groups) + f",{cents}\u00a0₽"
