"""The monthly invoice run through PostgreSQL and RabbitMQ: amounts, exactly once, resuming."""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy.exc import IntegrityError

from billing.adapters.invoice_pdf import qr_payload
from clientops_shared.events import contracts as c
from clientops_shared.events.base import Envelope
from clientops_shared.testing import eventually_async

pytestmark = pytest.mark.integration

# BILLING-RULES.md, worked examples (fee 12,500.00, on_top, 22 %), plus exempt and 20 % cases:
# (case, period, amount, vat, total, number of lines)
TABLE = {
    "full_december": ("2026-12", "12500.00", "2750.00", "15250.00", 1),
    "start_10_december": ("2026-12", "8870.97", "1951.61", "10822.58", 1),
    "fee_change_16_february": ("2027-02", "13660.72", "3005.35", "16666.07", 2),
    "terminated_10_march": ("2027-03", "3629.03", "798.39", "4427.42", 1),
    "suspended_5_to_19_april": ("2027-04", "6666.67", "1466.67", "8133.34", 1),
    "inclusive": ("2026-12", "10245.90", "2254.10", "12500.00", 1),
    "exempt": ("2026-12", "12500.00", "0.00", "12500.00", 1),
}
# fillers: (fee, vat_mode) -> December total
FILLERS = [("12500.00", "on_top", "15250.00"), ("9999.99", "on_top", "12199.99"),
           ("7300.00", "exempt", "7300.00"), ("12500.00", "inclusive", "12500.00")]
N = 1000


def _ref(s: c.ContractSigned) -> dict[str, Any]:
    return {"contract_id": s.contract_id, "number": s.number, "client_id": s.client_id}


async def _invoices(bt: Any, **params: Any) -> list[dict[str, Any]]:
    r = await bt.client.get("/api/invoices", params={"limit": 1000, **params},
                            headers=bt.auth())
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _run(bt: Any, period: str) -> dict[str, Any]:
    # the run on the period's 15th (a far period is refused unless the head confirms)
    bt.billing.rules.today = lambda: date(int(period[:4]), int(period[5:]), 15)
    r = await bt.client.post("/api/invoice-runs", json={"period": period}, headers=bt.auth())
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _sign_many(bt: Any, n: int, prefix: str = "2026") -> list[c.ContractSigned]:
    contracts = [bt.signed(f"{prefix}-{i:04d}", inn=bt.inns[i % len(bt.inns)],
                           fee=FILLERS[i % len(FILLERS)][0],
                           vat_mode=FILLERS[i % len(FILLERS)][1]) for i in range(1, n + 1)]
    await bt.consumed(await bt.publish(contracts), within=180)
    return contracts


def _seq(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


async def test_thousand_contracts_billed_as_the_rules_say(bt: Any) -> None:
    cases = {
        "full_december": bt.signed("2026-0001"),
        "start_10_december": bt.signed("2026-0002", starts_on=date(2026, 12, 10)),
        "fee_change_16_february": bt.signed("2026-0003"),
        "terminated_10_march": bt.signed("2026-0004"),
        "suspended_5_to_19_april": bt.signed("2026-0005"),
        "inclusive": bt.signed("2026-0006", vat_mode="inclusive"),
        "exempt": bt.signed("2026-0007", vat_mode="exempt"),
    }
    broken = bt.signed("2026-0008")
    fillers = [bt.signed(f"2026-{i:04d}", inn=bt.inns[i % len(bt.inns)],
                         fee=FILLERS[i % len(FILLERS)][0], vat_mode=FILLERS[i % len(FILLERS)][1])
               for i in range(9, N + 1)]
    await bt.consumed(await bt.publish([*cases.values(), broken, *fillers]), within=180)
    await bt.deliver(
        c.ContractAmended(**_ref(cases["fee_change_16_february"]), amendment_id=uuid.uuid4(),
                          kind="fee_change", effective_on=date(2027, 2, 16),
                          monthly_fee="15000.00"),
        c.ContractTerminated(**_ref(cases["terminated_10_march"]),
                             effective_on=date(2027, 3, 10)),
        c.ContractSuspended(**_ref(cases["suspended_5_to_19_april"]),
                            effective_on=date(2027, 4, 5), resume_on=date(2027, 4, 19)))
    # a contract whose terms cannot be billed: its fee schedule is lost
    await bt.execute("DELETE FROM subscription_fee WHERE subscription_id = "
                     "(SELECT id FROM subscription WHERE contract_id = :c)",
                     c=broken.contract_id)

    december = await _run(bt, "2026-12")
    assert (december["status"], december["total"], december["issued"], december["failed"]) == (
        "finished", N, N - 1, 1)
    assert december["done"] == N - 1
    assert december["failures"] == [{"contract_id": str(broken.contract_id),
                                     "contract_number": "2026-0008",
                                     "reason": "the subscription has no fee"}]
    r = await bt.client.get(f"/api/invoice-runs/{december['id']}", headers=bt.auth())
    assert r.json()["failures"][0]["reason"] == "the subscription has no fee"

    for period in ("2027-02", "2027-03", "2027-04"):
        result = await _run(bt, period)
        assert result["failed"] == 1 and result["status"] == "finished"

    for case, (period, amount, vat, total, lines) in TABLE.items():
        (inv,) = await _invoices(bt, contract_id=str(cases[case].contract_id), period=period)
        assert (inv["amount"], inv["vat"], inv["total"]) == (amount, vat, total), case
        r = await bt.client.get(f"/api/invoices/{inv['id']}", headers=bt.auth())
        detail = r.json()
        assert len(detail["lines"]) == lines, case
        assert sum(Decimal(x["total"]) for x in detail["lines"]) == Decimal(total)
    # terminated on 10 March: nothing in April; the start of 10 December split as per rules
    assert await _invoices(bt, contract_id=str(cases["terminated_10_march"].contract_id),
                           period="2027-04") == []
    (feb,) = await _invoices(bt, contract_id=str(cases["fee_change_16_february"].contract_id),
                             period="2027-02")
    lines = (await bt.client.get(f"/api/invoices/{feb['id']}", headers=bt.auth())).json()["lines"]
    assert [(x["days"], x["fee"], x["amount"], x["vat"]) for x in lines] == [
        (15, "12500.00", "6696.43", "1473.21"), (13, "15000.00", "6964.29", "1532.14")]

    invoices = await _invoices(bt, period="2026-12")
    assert len(invoices) == N - 1
    by_contract = {inv["contract_number"]: inv for inv in invoices}
    for i in range(9, N + 1):
        assert by_contract[f"2026-{i:04d}"]["total"] == FILLERS[i % len(FILLERS)][2]
    # numbers: СЧ-2026-12-0001 … without gaps, in contract-number order
    ordered = sorted(invoices, key=lambda inv: inv["contract_number"])
    assert [_seq(inv["number"]) for inv in ordered] == list(range(1, N))
    assert all(re.fullmatch(r"СЧ-2026-12-\d{4}", inv["number"]) for inv in invoices)
    assert all(inv["due_on"] == "2026-12-20" for inv in invoices)

    # every invoice announced once, through the outbox, with what notifications needs
    assert await bt.scalar("SELECT count(*) FROM outbox_message WHERE routing_key = "
                           "'billing.invoice.issued' AND body->'payload'->>'period' = "
                           "'2026-12'") == N - 1
    payload = (await bt.rows("SELECT body->'payload' AS p FROM outbox_message WHERE "
                             "body->'payload'->>'number' = 'СЧ-2026-12-0001'"))[0]["p"]
    assert payload["total"] == "15250.00" and payload["email"] == "buh@example.ru"
    assert payload["due_on"] == "2026-12-20"
    # written set-wise in SQL, each body is still the envelope ``uow.emit`` would write
    bodies = await bt.rows("SELECT body FROM outbox_message WHERE routing_key = "
                           "'billing.invoice.issued'")
    assert len({b["body"]["event_id"] for b in bodies}) == len(bodies) >= N - 1
    for row in bodies:
        envelope = Envelope.model_validate(row["body"])
        wrapped = Envelope.wrap(envelope.event(), "billing").model_dump(mode="json")
        assert set(row["body"]) == set(wrapped) and row["body"]["payload"] == wrapped["payload"]
        # the invoice's first step, numbered in the statement as UnitOfWork.commit would
        assert (row["body"]["aggregate"], row["body"]["aggregate_id"],
                row["body"]["aggregate_version"]) == ("invoice", wrapped["aggregate_id"], 1)
    assert await bt.scalar("SELECT count(*) FROM aggregate_version WHERE aggregate = 'invoice' "
                           "AND version = 1") >= N - 1

    again = await _run(bt, "2026-12")
    assert (again["issued"], again["done"], again["failed"]) == (0, N - 1, 1)
    assert await bt.scalar("SELECT count(*) FROM invoice WHERE period = '2026-12'") == N - 1


async def _counts(bt: Any, period: str) -> tuple[int, int, int]:
    rows = await bt.rows("SELECT count(*) AS n, count(DISTINCT contract_id) AS contracts, "
                         "count(DISTINCT number) AS numbers FROM invoice WHERE period = :p",
                         p=period)
    return rows[0]["n"], rows[0]["contracts"], rows[0]["numbers"]


async def test_two_replicas_running_the_same_period_at_once_issue_each_invoice_once(
        billing_db: str, open_billing: Any) -> None:
    n = 300
    async with open_billing(billing_db, run_batch=25) as one, \
            open_billing(billing_db, run_batch=25) as two:
        await _sign_many(one, n)
        first, second = await asyncio.gather(
            one.client.post("/api/invoice-runs", json={"period": "2026-12"},
                            headers=one.auth()),
            two.client.post("/api/invoice-runs", json={"period": "2026-12"},
                            headers=two.auth("head1", "head")))
        runs = [first.json(), second.json()]
        assert [r["status"] for r in runs] == ["finished", "finished"], runs
        assert all(r["done"] == n and r["failed"] == 0 for r in runs)
        assert runs[0]["issued"] + runs[1]["issued"] == n
        assert await _counts(one, "2026-12") == (n, n, n)
        numbers = await one.rows("SELECT number FROM invoice WHERE period = '2026-12'")
        assert sorted(_seq(r["number"]) for r in numbers) == list(range(1, n + 1))
        assert await one.scalar("SELECT count(*) FROM outbox_message WHERE routing_key = "
                                "'billing.invoice.issued'") == n
        # the guarantee is the database's, not the code's: a second row is refused
        with pytest.raises(IntegrityError, match="invoice_contract_period_key"):
            await one.execute(
                "INSERT INTO invoice (id, number, kind, contract_id, contract_number, "
                "client_id, period, revision, vat_mode, amount, vat, total, status, issued_on, "
                "due_on) SELECT gen_random_uuid(), 'X-1', kind, contract_id, contract_number, "
                "client_id, period, revision, vat_mode, amount, vat, total, status, issued_on, "
                "due_on FROM invoice LIMIT 1")


async def test_a_run_killed_half_way_is_finished_by_the_next_without_duplicates(
        billing_db: str, open_billing: Any) -> None:
    n = 300
    async with open_billing(billing_db, run_batch=20) as b:
        await _sign_many(b, n)
        r = await b.client.post("/api/invoice-runs", params={"wait": "false"},
                                json={"period": "2026-12"}, headers=b.auth())
        assert r.status_code == 202, r.text
        killed = r.json()["id"]

        async def half_way() -> bool:
            progress = (await b.client.get(f"/api/invoice-runs/{killed}",
                                           headers=b.auth())).json()
            return progress["done"] >= 100
        await eventually_async(half_way, timeout=60, interval=0.01)
        (task,) = b.billing.background
        task.cancel()  # the process "dies": the batch in flight rolls back
        with pytest.raises(asyncio.CancelledError):
            await task
        done = (await b.client.get(f"/api/invoice-runs/{killed}", headers=b.auth())).json()
        assert done["status"] == "running" and 100 <= done["done"] < n
        written = await b.scalar("SELECT count(*) FROM invoice")
        assert written == done["done"]  # whole batches or nothing

        rerun = await _run(b, "2026-12")
        assert (rerun["status"], rerun["done"], rerun["issued"], rerun["failed"],
                rerun["already"]) == ("finished", n, n - written, 0, written)
        assert await _counts(b, "2026-12") == (n, n, n)
        numbers = await b.rows("SELECT number FROM invoice")
        assert sorted(_seq(x["number"]) for x in numbers) == list(range(1, n + 1))
        first = (await b.client.get(f"/api/invoice-runs/{killed}", headers=b.auth())).json()
        assert first["status"] == "interrupted"
        assert await b.scalar("SELECT count(*) FROM outbox_message WHERE routing_key = "
                              "'billing.invoice.issued'") == n


async def test_the_run_on_the_15th_runs_once_per_period(bt: Any) -> None:
    from billing.service_layer.invoice_run import scheduled_run

    await _sign_many(bt, 30)
    assert await scheduled_run(bt.billing, date(2027, 1, 14)) is None  # not the day yet
    result = await scheduled_run(bt.billing, date(2027, 1, 15))
    assert result is not None and (result["issued"], result["trigger"]) == (30, "schedule")
    assert await scheduled_run(bt.billing, date(2027, 1, 15)) is None  # another replica
    assert await scheduled_run(bt.billing, date(2027, 1, 20)) is None  # catching up: done
    assert await _counts(bt, "2027-01") == (30, 30, 30)
    assert await bt.scalar("SELECT count(*) FROM job_run WHERE job = 'invoice-run' AND "
                           "key = '2027-01' AND finished_at IS NOT NULL") == 1
    # a service that was down on the 15th catches up on a later day of the month
    late = await scheduled_run(bt.billing, date(2027, 2, 17))
    assert late is not None and late["issued"] == 30


async def test_invoice_pdf_carries_the_payment_qr_and_the_amounts(bt: Any) -> None:
    s = bt.signed("2026-0001", inn="7707083893", name="ПАО Сбербанк")
    await bt.deliver(s)
    bt.billing.rules.today = lambda: date(2026, 12, 15)
    await _run(bt, "2026-12")
    (inv,) = await _invoices(bt, period="2026-12")
    r = await bt.client.get(f"/api/invoices/{inv['id']}/pdf", headers=bt.auth())
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(r.content))
    text = reader.pages[0].extract_text()
    assert "СЧ-2026-12-0001" in text and "15.12.2026" in text
    assert "15 250,00" in text and "2 750,00" in text
    assert "Пятнадцать тысяч двести пятьдесят рублей 00 копеек" in text
    assert "ПАО Сбербанк" in text and "7707083893" in text
    images = list(reader.pages[0].images)
    assert len(images) == 1  # the QR code
    payload = qr_payload(bt.billing.settings.payee(), inv["number"], date(2026, 12, 15),
                         Decimal("15250.00"), Decimal("2750.00"), "7707083893")
    assert payload == (
        "ST00012|Name=ООО \"КЛИЕНТОПС\"|PersonalAcc=40702810938000012345|"
        "BankName=ПАО СБЕРБАНК|BIC=044525225|CorrespAcc=30101810400000000225|Sum=1525000|"
        "Purpose=Оплата по счёту № СЧ-2026-12-0001 от 15.12.2026. Сумма 15250-00, "
        "в т.ч. НДС 2750-00|PayeeINN=7701000001|PayerINN=7707083893|KPP=770101001")


async def test_invoices_list_filters_and_manager_sees_only_own_clients(bt: Any) -> None:
    mine = bt.signed("2026-0001", manager="manager1")
    theirs = bt.signed("2026-0002", manager="manager2")
    await bt.deliver(mine, theirs)
    await _run(bt, "2026-12")
    r = await bt.client.get("/api/invoices", headers=bt.auth("manager1", "manager"))
    assert [i["contract_number"] for i in r.json()] == ["2026-0001"]
    assert set(r.json()[0]) >= {"id", "number", "contract_id", "period", "amount", "vat",
                                "total", "status"}
    (other,) = await _invoices(bt, client_id=str(theirs.client_id))
    r = await bt.client.get(f"/api/invoices/{other['id']}",
                            headers=bt.auth("manager1", "manager"))
    assert r.status_code == 403
    r = await bt.client.get(f"/api/invoices/{other['id']}/pdf",
                            headers=bt.auth("manager1", "manager"))
    assert r.status_code == 403
    assert len(await _invoices(bt, status="issued", period="2026-12")) == 2
    assert await _invoices(bt, status="paid") == []
    r = await bt.client.post("/api/invoice-runs", json={"period": "2026-12"},
                             headers=bt.auth("manager1", "manager"))
    assert r.status_code == 403


@pytest.mark.parametrize("period", ["2026-13", "12-2026", "", "2026-1"])
async def test_a_bad_period_is_refused_naming_the_field(bt: Any, period: str) -> None:
    r = await bt.client.post("/api/invoice-runs", json={"period": period}, headers=bt.auth())
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "period"
    assert await bt.scalar("SELECT count(*) FROM invoice_run") == 0


async def test_the_service_wires_its_periodic_jobs(bt: Any) -> None:
    jobs = {job.name: job for job in bt.app.state.runtime.periodic}
    assert set(jobs) == {"invoice-run", "dunning", "planfact-sync", "business-metrics"}
    await _sign_many(bt, 3)
    bt.billing.rules.today = lambda: date(2026, 12, 14)
    assert await jobs["invoice-run"].run() is None
    bt.billing.rules.today = lambda: date(2026, 12, 15)
    assert (await jobs["invoice-run"].run())["issued"] == 3
    bt.billing.rules.today = lambda: date(2026, 12, 21)
    assert (await jobs["dunning"].run())["reminded"] == 3
    assert await jobs["planfact-sync"].run() == 0
