"""The contracts domain without I/O: lifecycle, amendments, claims, deals, uploads."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from clientops_shared.errors import Conflict, InvalidInput, NotFound
from contracts.adapters.storage import DiskStorage, MemoryStorage
from contracts.domain.claims import Claim, ClaimStage
from contracts.domain.files import check_upload, sniff
from contracts.domain.model import (
    AmendmentKind,
    AmendmentStatus,
    ChangeRequest,
    ChangeRequestKind,
    ChangeRequestState,
    Contract,
    ContractKind,
    ContractStatus,
    PilotOutcome,
    add_months,
)
from contracts.domain.sales import Deal, DealStage

pytestmark = pytest.mark.unit
S = ContractStatus


def make(status: ContractStatus = S.DRAFT, **changes: Any) -> Contract:
    values: dict[str, Any] = {
        "client_id": uuid.uuid4(), "number": "2026-0001", "kind": ContractKind.SUBSCRIPTION,
        "starts_on": date(2026, 12, 1), "ends_on": date(2027, 11, 30),
        "monthly_fee": Decimal("12500.00"), **changes}
    contract = Contract(**values)
    contract.status = status
    return contract


# --- the state machine ------------------------------------------------------------------------

ACTIONS = {
    "submit": lambda c: c.submit_for_approval(),
    "approve": lambda c: c.approve("head1"),
    "reject": lambda c: c.reject("head1", "нет"),
    "sign": lambda c: c.sign(date(2026, 12, 1)),
    "suspend": lambda c: c.suspend(date(2026, 12, 5), None),
    "resume": lambda c: c.resume(date(2026, 12, 6)),
    "terminate": lambda c: c.terminate(date(2026, 12, 7), None),
    "renew": lambda c: c.renew(),
}
# (standard?, state) -> actions allowed there; every other action must be a 409
ALLOWED = {
    (True, S.DRAFT): {"sign"},
    (False, S.DRAFT): {"submit"},
    (False, S.PENDING_APPROVAL): {"approve", "reject"},
    (False, S.REJECTED): {"submit"},
    (False, S.APPROVED): {"sign"},
    (True, S.SIGNED): {"terminate", "renew"},
    (True, S.ACTIVE): {"suspend", "terminate", "renew"},
    (True, S.SUSPENDED): {"resume", "terminate", "renew"},
    (True, S.TERMINATED): set(),
    (True, S.EXPIRED): set(),
}
TRANSITIONS = [(standard, state, action) for (standard, state) in ALLOWED for action in ACTIONS]


@pytest.mark.parametrize(("standard", "state", "action"), TRANSITIONS)
def test_every_action_in_every_state(standard: bool, state: ContractStatus, action: str) -> None:
    contract = make(state, standard=standard, auto_renew=True)
    if action in ALLOWED[(standard, state)]:
        ACTIONS[action](contract)
    else:
        with pytest.raises(Conflict) as refused:
            ACTIONS[action](contract)
        assert refused.value.extra["current_state"] == str(state)
        assert str(state) in refused.value.detail


def test_signing_before_the_start_waits_and_activation_comes_on_the_start_date() -> None:
    contract = make()
    assert contract.sign(date(2026, 11, 20)) == S.SIGNED
    assert contract.activate(date(2026, 11, 30)) is False
    assert contract.activate(date(2026, 12, 1)) is True and contract.status == S.ACTIVE
    assert make().sign(date(2026, 12, 3)) == S.ACTIVE
    # signed with an earlier date, recorded after the start date: active at once
    assert make().sign(date(2026, 11, 20), today=date(2026, 12, 2)) == S.ACTIVE
    assert make().sign(date(2026, 11, 20), today=date(2026, 11, 25)) == S.SIGNED


def test_non_standard_contract_is_signed_only_after_approval() -> None:
    contract = make(standard=False)
    contract.submit_for_approval()
    with pytest.raises(Conflict, match="approved by the head"):
        contract.sign(date(2026, 12, 1))
    contract.approve("head1", "ок")
    assert contract.sign(date(2026, 12, 1)) == S.ACTIVE
    assert contract.decided_by == "head1"


def test_rejection_needs_a_reason() -> None:
    contract = make(S.PENDING_APPROVAL, standard=False)
    with pytest.raises(InvalidInput) as refused:
        contract.reject("head1", "  ")
    assert refused.value.field == "reason"


@pytest.mark.parametrize(("changes", "field"), [
    ({"ends_on": date(2026, 11, 30)}, "ends_on"),
    ({"monthly_fee": Decimal("-1")}, "monthly_fee"),
    ({"kind": ContractKind.PILOT, "ends_on": None}, "ends_on"),
    ({"kind": ContractKind.PILOT, "auto_renew": True}, "auto_renew"),
    ({"scheduled_visits": 4}, "visit_period"),
])
def test_contract_invariants(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        make(**changes)
    assert refused.value.field == field


def test_expiry_and_renewal() -> None:
    contract = make(S.ACTIVE, ends_on=date(2027, 1, 31))
    assert contract.expire(date(2027, 1, 31)) is False
    assert contract.expire(date(2027, 2, 1)) is True and contract.status == S.EXPIRED
    renewing = make(S.ACTIVE, ends_on=date(2027, 1, 31), auto_renew=True, renewal_months=12)
    assert renewing.renew() == (date(2027, 2, 1), date(2028, 1, 31))
    with pytest.raises(Conflict):
        make(S.ACTIVE, ends_on=None, auto_renew=True).renew()


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2027, 1, 31), 1, date(2027, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2027, 11, 30), 12, date(2028, 11, 30)),
    (date(2027, 12, 31), 2, date(2028, 2, 29)),
    (date(2027, 5, 15), 36, date(2030, 5, 15)),
])
def test_add_months_clamps_to_the_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# --- amendments ---------------------------------------------------------------------------------


def plan(contract: Contract, kind: AmendmentKind, **values: Any) -> Any:
    return contract.plan_amendment(number=1, kind=kind, signed_on=date(2027, 2, 1), **values)


def test_fee_change_respects_the_notice_period() -> None:
    contract = make(S.ACTIVE, notice_days=30)
    with pytest.raises(InvalidInput) as refused:
        plan(contract, AmendmentKind.FEE_CHANGE, new_fee=Decimal("15000"),
             notice_on=date(2027, 2, 1), effective_on=date(2027, 3, 2))
    assert refused.value.field == "effective_on"
    assert "no earlier than 2027-03-03" in refused.value.detail
    amendment = plan(contract, AmendmentKind.FEE_CHANGE, new_fee=Decimal("15000"),
                     notice_on=date(2027, 2, 1), effective_on=None)
    assert amendment.effective_on == date(2027, 3, 3)
    assert amendment.previous_fee == Decimal("12500.00")
    assert contract.monthly_fee == Decimal("12500.00")  # not before its date
    assert contract.apply(amendment, date(2027, 3, 3)) is True
    assert contract.monthly_fee == Decimal("15000")
    assert amendment.status == AmendmentStatus.APPLIED


def test_extension_changes_the_end_at_once_and_its_fee_on_its_date() -> None:
    contract = make(S.ACTIVE)
    with pytest.raises(InvalidInput):
        plan(contract, AmendmentKind.EXTENSION, new_ends_on=date(2027, 11, 30),
             effective_on=None)
    amendment = plan(contract, AmendmentKind.EXTENSION, new_ends_on=date(2028, 11, 30),
                     new_fee=Decimal("13000"), effective_on=None)
    assert contract.ends_on == date(2028, 11, 30)
    assert amendment.effective_on == date(2027, 12, 1)
    assert amendment.previous_ends_on == date(2027, 11, 30)
    assert amendment.status == AmendmentStatus.SCHEDULED
    plain = plan(make(S.ACTIVE), AmendmentKind.EXTENSION, new_ends_on=date(2029, 1, 1),
                 effective_on=None)
    assert plain.status == AmendmentStatus.APPLIED


def test_amendments_that_find_the_contract_changed_are_void() -> None:
    contract = make(S.ACTIVE)
    suspension = plan(contract, AmendmentKind.SUSPENSION, effective_on=date(2027, 3, 1))
    contract.terminate(date(2027, 2, 15), "досрочно")
    assert contract.apply(suspension, date(2027, 3, 1)) is False
    assert suspension.status == AmendmentStatus.VOID


@pytest.mark.parametrize(("kind", "values", "field"), [
    (AmendmentKind.TERMINATION, {"effective_on": date(2026, 11, 1)}, "effective_on"),
    (AmendmentKind.TERMINATION, {"effective_on": date(2028, 1, 1)}, "effective_on"),
    (AmendmentKind.SUSPENSION, {"effective_on": date(2027, 3, 1),
                                "resume_on": date(2027, 3, 1)}, "resume_on"),
    (AmendmentKind.FEE_CHANGE, {"effective_on": None}, "new_fee"),
    (AmendmentKind.FEE_CHANGE, {"effective_on": None, "new_fee": Decimal("-1")}, "new_fee"),
])
def test_amendment_rules(kind: AmendmentKind, values: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        plan(make(S.ACTIVE), kind, **values)
    assert refused.value.field == field


def test_suspension_needs_an_active_contract() -> None:
    with pytest.raises(Conflict) as refused:
        plan(make(S.SIGNED), AmendmentKind.SUSPENSION, effective_on=date(2027, 3, 1))
    assert refused.value.extra["current_state"] == "signed"


def test_change_request_decisions() -> None:
    request = ChangeRequest(contract_id=uuid.uuid4(), client_id=uuid.uuid4(),
                            kind=ChangeRequestKind.OTHER, summary="Сменить реквизиты",
                            received_on=date(2027, 1, 1))
    assert request.amendment_kind is None
    with pytest.raises(InvalidInput):
        request.decide(approve=False, by="head1", on=date(2027, 1, 2), reason=None)
    request.decide(approve=True, by="head1", on=date(2027, 1, 2), reason=None)
    assert request.state == ChangeRequestState.APPROVED
    with pytest.raises(Conflict):
        request.decide(approve=True, by="head1", on=date(2027, 1, 3), reason=None)


def test_pilot_end_and_outcome() -> None:
    pilot = make(S.ACTIVE, kind=ContractKind.PILOT, monthly_fee=Decimal("0"))
    assert pilot.end_pilot(date(2027, 1, 15), PilotOutcome.SUCCESS, "ok") is True
    assert (pilot.status, pilot.pilot_ended_on) == (S.EXPIRED, date(2027, 1, 15))
    assert pilot.end_pilot(date(2027, 1, 20), PilotOutcome.DECLINED, None) is False
    assert pilot.pilot_ended_on == date(2027, 1, 15)
    with pytest.raises(Conflict):
        make(S.ACTIVE).end_pilot(date(2027, 1, 15), None, None)


# --- claims and deals -------------------------------------------------------------------------


def test_claim_moves_forward_only_and_stays_closed() -> None:
    claim = Claim(client_id=uuid.uuid4(), subject="x", received_on=date(2027, 1, 1))
    assert claim.move_to(ClaimStage.NEGOTIATION, date(2027, 1, 2), None) == ClaimStage.RECEIVED
    with pytest.raises(Conflict):
        claim.move_to(ClaimStage.ANSWERED, date(2027, 1, 3), None)
    claim.move_to(ClaimStage.LOST, date(2027, 1, 4), "суд проигран")
    assert claim.closed_on == date(2027, 1, 4)
    for stage in ClaimStage:
        with pytest.raises(Conflict):
            claim.move_to(stage, date(2027, 1, 5), None)
    with pytest.raises(Conflict):
        claim.assign_lawyer("lawyer2")
    with pytest.raises(InvalidInput):
        Claim(client_id=uuid.uuid4(), subject="x", received_on=date(2027, 1, 2),
              answer_due_on=date(2027, 1, 1))


def test_deal_closes_once() -> None:
    deal = Deal(client_id=uuid.uuid4(), title="Турникет")
    deal.hand_over("sales1")
    assert (deal.owner, deal.handed_to_sales) == ("sales1", True)
    deal.move_to(DealStage.LOST, date(2027, 1, 1))
    with pytest.raises(Conflict):
        deal.move_to(DealStage.WON, date(2027, 1, 2))


# --- uploads and storage ------------------------------------------------------------------------


@pytest.mark.parametrize(("head", "declared", "size", "expected"), [
    (b"%PDF-1.7", "application/pdf", 10, "application/pdf"),
    (b"\xff\xd8\xff\xe1", "image/jpeg", 10, "image/jpeg"),
    (b"\xff\xd8\xff\xe1", "image/jpg", 10, "image/jpeg"),
    (b"%PDF-1.7", "application/octet-stream", 10, "application/pdf"),
    (b"%PDF-1.7", None, 10, "application/pdf"),
])
def test_accepted_uploads(head: bytes, declared: str | None, size: int, expected: str) -> None:
    assert check_upload(declared, head, size, 100) == expected


@pytest.mark.parametrize(("head", "declared", "size", "message"), [
    (b"%PDF-1.7", "application/pdf", 0, "empty"),
    (b"%PDF-1.7", "application/pdf", 101, "larger than 100 bytes"),
    (b"GIF89a", "image/gif", 10, "neither"),
    (b"\xff\xd8\xff\xe1", "application/pdf", 10, "declared as application/pdf"),
    (b"<html>", "application/pdf", 10, "neither"),
])
def test_refused_uploads(head: bytes, declared: str, size: int, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_upload(declared, head, size, 100)
    assert refused.value.field == "file" and message in refused.value.detail


def test_sniff() -> None:
    assert sniff(b"%PDF-") == "application/pdf" and sniff(b"PK\x03\x04") is None


async def test_disk_storage_round_trip_and_refuses_escaping_keys(tmp_path: Path) -> None:
    storage = DiskStorage(tmp_path)
    await storage.put("client/doc.pdf", b"%PDF-1")
    assert await storage.get("client/doc.pdf") == b"%PDF-1"
    assert (tmp_path / "client" / "doc.pdf").read_bytes() == b"%PDF-1"
    assert [p.name for p in (tmp_path / "client").iterdir()] == ["doc.pdf"]  # no temp left
    await storage.delete("client/doc.pdf")
    with pytest.raises(NotFound):
        await storage.get("client/doc.pdf")
    for key in ("../etc/passwd", "/abs", "a/../../b", "a//b", ""):
        with pytest.raises(ValueError):
            await storage.put(key, b"x")


async def test_memory_storage_is_the_same_port() -> None:
    storage = MemoryStorage()
    await storage.put("a/b.jpg", b"\xff\xd8")
    assert await storage.get("a/b.jpg") == b"\xff\xd8"
    await storage.delete("a/b.jpg")
    with pytest.raises(NotFound):
        await storage.get("a/b.jpg")
