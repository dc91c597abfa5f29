"""The invoice list a page at a time: the cursor walks every invoice once, newest period first
and then by number, with and without a client filter; a forged cursor is a 422; the planner
reads a page from the list's index."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

pytestmark = pytest.mark.integration


async def seed_invoices(bt: Any, n: int) -> None:
    """``n`` invoices over three periods and two clients."""
    await bt.execute("""
        INSERT INTO invoice (id, number, kind, contract_id, contract_number, client_id, period,
            revision, vat_mode, amount, vat, total, paid, status, issued_on, due_on)
        SELECT gen_random_uuid(), 'СЧ-' || lpad(g::text, 5, '0'), 'invoice', gen_random_uuid(),
               '2026-' || g, md5('client' || (g % 2))::uuid,
               (ARRAY['2026-09', '2026-10', '2026-11'])[g % 3 + 1], 0, 'on_top', 100, 22, 122,
               0, 'issued', DATE '2026-11-15', DATE '2026-12-18'
        FROM generate_series(1, :n) AS g""", n=n)


async def walk(bt: Any, **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 6, **params}
    while True:
        r = await bt.client.get("/api/invoices", params=query, headers=bt.auth())
        assert r.status_code == 200, r.text
        seen += r.json()
        if "X-Next-Cursor" not in r.headers:
            return seen
        assert "after=" in r.headers["Link"]
        query["after"] = r.headers["X-Next-Cursor"]


def newest_period_first(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    by_number = sorted((r["period"], r["number"]) for r in rows)
    return sorted(by_number, key=lambda k: k[0], reverse=True)  # stable: numbers stay ascending


async def test_invoice_pages_walk_every_invoice_once_in_list_order(bt: Any) -> None:
    await seed_invoices(bt, 40)
    every = await walk(bt)
    assert len(every) == 40 and len({i["id"] for i in every}) == 40
    assert [(i["period"], i["number"]) for i in every] == newest_period_first(every)
    client = every[0]["client_id"]
    theirs = await walk(bt, client_id=client)
    assert len(theirs) == 20 and {i["client_id"] for i in theirs} == {client}
    assert [(i["period"], i["number"]) for i in theirs] == newest_period_first(theirs)
    bad = await bt.client.get("/api/invoices", params={"after": "e30"}, headers=bt.auth())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "after"


async def test_a_deep_page_is_read_from_the_index(bt: Any) -> None:
    await seed_invoices(bt, 3000)
    await bt.execute("ANALYZE invoice")
    r = await bt.client.get("/api/invoices", params={"limit": 100}, headers=bt.auth())
    assert r.headers["X-Total-Count"] == "1000+"
    plan = "\n".join(row["QUERY PLAN"] for row in await bt.rows("""
        EXPLAIN SELECT * FROM invoice
        WHERE period <= '2026-10' AND (period < '2026-10' OR (period = '2026-10'
              AND number > 'СЧ-01000'))
        ORDER BY period DESC, number LIMIT 101"""))
    assert "invoice_period_number_idx" in plan, plan


async def test_every_filter_answers_with_this_requests_values(bt: Any) -> None:
    """The list's statement is built once per shape of filters (``PageStatement``) and run
    with each request's values: asked twice in a row with other values, each answer is the
    invoices those values select, walked page by page, for the desk and for a manager."""
    await seed_invoices(bt, 40)
    await bt.execute("""
        UPDATE invoice SET status = CASE WHEN number < 'СЧ-00010' THEN 'paid' ELSE status END,
                           kind = CASE WHEN number > 'СЧ-00035' THEN 'credit_note' ELSE kind END,
                           due_on = CASE WHEN number < 'СЧ-00020' THEN DATE '2026-11-20'
                                         ELSE due_on END""")
    await bt.execute("""
        INSERT INTO client_account (client_id, name, inn, email, manager)
        SELECT DISTINCT client_id, 'ООО ' || client_id, '7707083893', 'buh@example.ru',
               CASE WHEN client_id = md5('client0')::uuid THEN 'manager1' ELSE 'manager2' END
        FROM invoice""")
    bt.billing.rules.today = lambda: date(2026, 12, 10)
    rows = await bt.rows("SELECT i.*, a.manager FROM invoice i JOIN client_account a USING "
                         "(client_id)")
    a_contract = next(r["contract_id"] for r in rows if r["number"] == "СЧ-00012")
    cases: list[tuple[dict[str, Any], Any]] = [
        ({"client_id": str(r0)}, lambda r, v=r0: r["client_id"] == v)
        for r0 in sorted({r["client_id"] for r in rows})
    ] + [
        ({"period": p}, lambda r, p=p: r["period"] == p) for p in ("2026-10", "2026-11")
    ] + [
        ({"status": s}, lambda r, s=s: r["status"] == s) for s in ("paid", "issued")
    ] + [
        ({"kind": k}, lambda r, k=k: r["kind"] == k) for k in ("credit_note", "invoice")
    ] + [
        ({"number": n}, lambda r, n=n: n in r["number"]) for n in ("0001", "СЧ-0003")
    ] + [
        ({"contract_id": str(a_contract)}, lambda r: r["contract_id"] == a_contract),
        ({"overdue": "true"}, lambda r: r["kind"] == "invoice" and r["status"] == "issued"
         and r["due_on"] < date(2026, 12, 10)),
        ({"overdue": "true", "period": "2026-11"},
         lambda r: r["kind"] == "invoice" and r["status"] == "issued"
         and r["due_on"] < date(2026, 12, 10) and r["period"] == "2026-11"),
    ]
    for query, wanted in cases:
        got = {i["number"] for i in await walk(bt, **query)}
        expected = {r["number"] for r in rows if wanted(r)}
        assert got == expected and expected, query
    for manager in ("manager1", "manager2"):
        r = await bt.client.get("/api/invoices", params={"period": "2026-11"},
                                headers=bt.auth(manager, "manager"))
        assert {i["number"] for i in r.json()} == {
            x["number"] for x in rows if x["manager"] == manager and x["period"] == "2026-11"}
        assert r.headers["X-Total-Count"] == str(len(r.json()))
