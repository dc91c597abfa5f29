"""The shared COPY writes on billing's own database: inside the caller's transaction, the
unique key still deciding, callable twice in one transaction."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from billing.adapters.bulk import copy_insert, copy_rows
from billing.adapters.orm import invoice_counter

pytestmark = pytest.mark.integration

COLUMNS = ("series", "period", "last")


async def test_a_copy_as_the_first_write_rolls_back_with_its_transaction(bt: Any) -> None:
    async with bt.billing.uow() as uow:  # nothing sent yet: SQLAlchemy has not begun
        await copy_rows(uow.session, invoice_counter, COLUMNS, [("T", "2026-12", 1)])
        await copy_insert(uow.session, invoice_counter, COLUMNS, [("T", "2027-01", 1)])
        await uow.rollback()
    assert await bt.scalar("SELECT count(*) FROM invoice_counter WHERE series = 'T'") == 0


async def test_copy_insert_keeps_on_conflict_and_works_twice_in_a_transaction(bt: Any) -> None:
    suffix = "ON CONFLICT DO NOTHING RETURNING period"
    async with bt.billing.uow() as uow:
        first = (await copy_insert(uow.session, invoice_counter, COLUMNS,
                                   [("T", "2026-11", 1), ("T", "2026-12", 2)],
                                   suffix=suffix)).scalars().all()
        # the same transaction again: one row already there, one new
        second = (await copy_insert(uow.session, invoice_counter, COLUMNS,
                                    [("T", "2026-12", 99), ("T", "2027-01", 3)],
                                    suffix=suffix)).scalars().all()
        await uow.commit()
    assert sorted(first) == ["2026-11", "2026-12"] and second == ["2027-01"]
    rows = await bt.rows("SELECT period, last FROM invoice_counter WHERE series = 'T' "
                         "ORDER BY period")
    assert [(r["period"], r["last"]) for r in rows] == [
        ("2026-11", 1), ("2026-12", 2), ("2027-01", 3)]
    async with bt.billing.uow() as uow:  # the temporary table went with the commit
        gone = await uow.session.execute(sa.text(
            "SELECT count(*) FROM pg_class WHERE relname = 'bulk_invoice_counter' "
            "AND relpersistence = 't'"))
        assert gone.scalar_one() == 0
