"""Use cases of the contracts desk: one transaction each, events through the outbox.

Every use case authorises against the client's owning manager, changes aggregates through the
domain, emits the events consumers need (carrying state, not just ids), audits and commits.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from clientops_shared.events import contracts as ev
from contracts.domain.model import (
    IN_FORCE,
    Amendment,
    AmendmentKind,
    AmendmentStatus,
    BankDetails,
    ChangeRequest,
    ChangeRequestKind,
    Client,
    ContactPerson,
    Contract,
    ContractKind,
    ContractStatus,
    PaymentForm,
    PilotOutcome,
    Signatory,
    Site,
    VatMode,
    VisitPeriod,
)
from contracts.service_layer.unit_of_work import ContractsUnitOfWork

DEFAULT_EMERGENCY_SLA_DAYS = 2


def snapshot(obj: object) -> dict[str, Any]:
    assert is_dataclass(obj) and not isinstance(obj, type)
    return {k: v for k, v in asdict(obj).items() if not k.startswith("_")}


def ensure_visible(actor: Principal, client: Client) -> None:
    if not actor.may_see_client_of(client.manager):
        raise Forbidden("this client is assigned to another manager")


def _ref(contract: Contract) -> dict[str, Any]:
    return {"contract_id": contract.id, "number": contract.number,
            "client_id": contract.client_id}


# --- clients and sites -------------------------------------------------------------------


def _client_event(cls: type[ev.ClientRegistered], client: Client) -> ev.ClientRegistered:
    return cls(client_id=client.id, name=client.name, inn=client.inn, kpp=client.kpp,
               email=client.email, phone=client.phone, manager=client.manager,
               legal_address=client.legal_address, source=client.source)


async def register_client(uow: ContractsUnitOfWork, actor: Principal, *, name: str, inn: str,
                          email: str | None, kpp: str | None = None, phone: str | None = None,
                          manager: str | None = None, legal_address: str | None = None,
                          source: str | None = None, ogrn: str | None = None,
                          postal_address: str | None = None, bank: BankDetails | None = None,
                          signatory: Signatory | None = None,
                          contacts: tuple[ContactPerson, ...] = ()) -> Client:
    if actor.role == "manager" and manager not in (None, actor.username):
        raise Forbidden("a manager registers clients for themselves; ask the head to assign")
    if actor.role == "manager":
        manager = actor.username
    if await uow.client_by_inn(inn) is not None:
        raise Conflict(f"a client with INN {inn} is already registered", field="inn")
    _check_kpp(inn, kpp)
    client = Client(name=name, inn=inn, kpp=kpp, email=email, phone=phone, manager=manager,
                    legal_address=legal_address, source=source, ogrn=ogrn,
                    postal_address=postal_address, bank=bank, signatory=signatory,
                    contacts=tuple(contacts))
    uow.add(client)
    uow.emit(_client_event(ev.ClientRegistered, client))
    uow.audit("client.registered", "client", client.id, after=snapshot(client))
    await uow.commit()
    return client


def _check_kpp(inn: str, kpp: str | None) -> None:
    if len(inn) == 12 and kpp is not None:
        raise InvalidInput("kpp", "a sole trader (12-digit INN) has no KPP")


CLIENT_FIELDS = frozenset({"name", "email", "kpp", "phone", "legal_address", "source", "ogrn",
                           "postal_address", "bank", "signatory", "contacts"})


async def update_client(uow: ContractsUnitOfWork, actor: Principal, client_id: uuid.UUID,
                        changes: dict[str, Any]) -> Client:
    unknown = set(changes) - CLIENT_FIELDS
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "cannot be changed here")
    client = await uow.client(client_id, for_update=True)
    ensure_visible(actor, client)
    before = snapshot(client)
    if "kpp" in changes:
        _check_kpp(client.inn, changes["kpp"])
    for key, value in changes.items():
        setattr(client, key, tuple(value) if key == "contacts" else value)
    uow.emit(_client_event(ev.ClientUpdated, client))
    uow.audit("client.updated", "client", client.id, before=before, after=snapshot(client))
    await uow.commit()
    return client


async def assign_clients(uow: ContractsUnitOfWork, actor: Principal,
                         client_ids: list[uuid.UUID], manager: str | None) -> dict[str, Any]:
    """Bulk (re)assignment by the head; one ``contracts.client.reassigned`` per moved client."""
    wanted = list(dict.fromkeys(client_ids))
    found = await uow.clients(wanted, for_update=True)
    missing = sorted(set(wanted) - {c.id for c in found}, key=str)
    if missing:
        raise NotFound(f"{len(missing)} client(s) not found", missing=[str(m) for m in missing])
    moved: list[uuid.UUID] = []
    for client in found:
        if client.manager == manager:
            continue
        before = snapshot(client)
        previous = client.reassign(manager)
        uow.emit(ev.ClientReassigned(client_id=client.id, name=client.name,
                                     previous_manager=previous, manager=manager))
        uow.audit("client.reassigned", "client", client.id, before=before,
                  after=snapshot(client))
        moved.append(client.id)
    await uow.commit()
    return {"manager": manager, "reassigned": [str(i) for i in moved],
            "unchanged": len(found) - len(moved)}


async def add_site(uow: ContractsUnitOfWork, actor: Principal, client_id: uuid.UUID, *,
                   name: str, address: str, access_points: int = 0, server_format: str = "cloud",
                   equipment_summary: str | None = None, contact_name: str | None = None,
                   contact_phone: str | None = None) -> Site:
    client = await uow.client(client_id)
    ensure_visible(actor, client)
    site = Site(client_id=client.id, name=name, address=address, access_points=access_points,
                server_format=server_format, equipment_summary=equipment_summary,
                contact_name=contact_name, contact_phone=contact_phone)
    uow.add(site)
    uow.audit("site.added", "site", site.id, after=snapshot(site))
    uow.emit(site_event(ev.SiteRegistered, site))
    await uow.commit()
    return site


def site_event(cls: type[ev.SiteRegistered], site: Site) -> ev.SiteRegistered:
    return cls(site_id=site.id, client_id=site.client_id, name=site.name, address=site.address,
               access_points=site.access_points, server_format=site.server_format,
               equipment_summary=site.equipment_summary, contact_name=site.contact_name,
               contact_phone=site.contact_phone)


SITE_FIELDS = frozenset({"name", "address", "access_points", "server_format",
                         "equipment_summary", "contact_name", "contact_phone"})


async def update_site(uow: ContractsUnitOfWork, actor: Principal, site_id: uuid.UUID,
                      changes: dict[str, Any]) -> Site:
    site = await uow.site(site_id, for_update=True)
    ensure_visible(actor, await uow.client(site.client_id))
    before = snapshot(site)
    for key, value in changes.items():
        if key not in SITE_FIELDS:
            raise InvalidInput(key, "cannot be changed here")
        setattr(site, key, value)
    uow.audit("site.updated", "site", site.id, before=before, after=snapshot(site))
    uow.emit(site_event(ev.SiteUpdated, site))
    await uow.commit()
    return site


# --- contracts: creation, approval, signing ----------------------------------------------


async def create_contract(uow: ContractsUnitOfWork, actor: Principal, *, client_id: uuid.UUID,
                          kind: ContractKind, starts_on: date, monthly_fee: Decimal,
                          auto_renew: bool, standard: bool, ends_on: date | None = None,
                          site_id: uuid.UUID | None = None, vat_mode: VatMode = VatMode.ON_TOP,
                          payment_form: PaymentForm = PaymentForm.CASHLESS, notice_days: int = 30,
                          emergency_sla_days: int | None = None, bill_from_install: bool = False,
                          replaces_id: uuid.UUID | None = None, renewal_months: int = 12,
                          scheduled_visits: int | None = None,
                          visit_period: VisitPeriod | None = None,
                          commit: bool = True) -> Contract:
    client = await uow.client(client_id)
    ensure_visible(actor, client)
    if site_id is not None and (await uow.site(site_id)).client_id != client.id:
        raise Conflict("the site belongs to another client", field="site_id")
    if replaces_id is not None:
        predecessor = await uow.contract(replaces_id)
        if predecessor.client_id != client.id:
            raise Conflict("a contract can only replace one of the same client",
                           field="replaces_id")
        if predecessor.replaced_by_id is not None:
            raise Conflict(f"that contract ({predecessor.status}) was already replaced",
                           current_state=str(predecessor.status), field="replaces_id")
        if predecessor.status not in (*IN_FORCE, ContractStatus.EXPIRED):
            raise Conflict(f"a contract in state {predecessor.status} cannot be replaced",
                           current_state=str(predecessor.status), field="replaces_id")
    if kind == ContractKind.MAINTENANCE and emergency_sla_days is None:
        # seed 000 §11: emergency visits "within 1-2 days per contract"; the longer by default
        emergency_sla_days = DEFAULT_EMERGENCY_SLA_DAYS
    if payment_form == PaymentForm.CASH and kind != ContractKind.RENT:
        raise InvalidInput("payment_form", "only rent (paid to a site owner) may be in cash")
    # validate before numbering: a refused contract must not consume a number
    contract = Contract(client_id=client.id, number="", kind=kind, starts_on=starts_on,
                        ends_on=ends_on, monthly_fee=monthly_fee, auto_renew=auto_renew,
                        standard=standard, site_id=site_id, vat_mode=vat_mode,
                        payment_form=payment_form, notice_days=notice_days,
                        emergency_sla_days=emergency_sla_days,
                        bill_from_install=bill_from_install, replaces_id=replaces_id,
                        renewal_months=renewal_months, scheduled_visits=scheduled_visits,
                        visit_period=visit_period)
    contract.number = await uow.next_contract_number(starts_on)
    uow.add(contract)
    if not standard:
        # non-standard terms go straight to the head's approval queue
        contract.submit_for_approval()
        uow.emit(ev.ContractSubmittedForApproval(**_ref(contract), manager=client.manager))
    uow.audit("contract.created", "contract", contract.id, after=snapshot(contract))
    if commit:
        await uow.commit()
    return contract


async def submit_for_approval(uow: ContractsUnitOfWork, actor: Principal,
                              contract_id: uuid.UUID) -> Contract:
    contract = await uow.contract(contract_id, for_update=True)
    client = await uow.client(contract.client_id)
    ensure_visible(actor, client)
    before = snapshot(contract)
    contract.submit_for_approval()
    uow.emit(ev.ContractSubmittedForApproval(**_ref(contract), manager=client.manager))
    uow.audit("contract.submitted", "contract", contract.id, before=before,
              after=snapshot(contract))
    await uow.commit()
    return contract


async def decide(uow: ContractsUnitOfWork, actor: Principal, contract_id: uuid.UUID, *,
                 approve: bool, reason: str | None) -> Contract:
    contract = await uow.contract(contract_id, for_update=True)
    before = snapshot(contract)
    event: ev.ContractApproved
    if approve:
        contract.approve(actor.username, reason)
        event = ev.ContractApproved(**_ref(contract), decided_by=actor.username, reason=reason)
    else:
        contract.reject(actor.username, reason or "")
        event = ev.ContractRejected(**_ref(contract), decided_by=actor.username, reason=reason)
    uow.emit(event)
    uow.audit("contract.approved" if approve else "contract.rejected", "contract", contract.id,
              before=before, after=snapshot(contract))
    await uow.commit()
    return contract


def signed_event(contract: Contract, client: Client, site: Site | None = None
                 ) -> ev.ContractSigned:
    assert contract.signed_on is not None
    bank = client.bank
    return ev.ContractSigned(
        **_ref(contract), client_name=client.name, client_inn=client.inn,
        client_email=client.email, manager=client.manager, kind=str(contract.kind),
        status=str(contract.status), signed_on=contract.signed_on,
        starts_on=contract.starts_on, ends_on=contract.ends_on,
        monthly_fee=contract.monthly_fee, vat_mode=str(contract.vat_mode),
        payment_form=str(contract.payment_form), auto_renew=contract.auto_renew,
        standard=contract.standard, site_id=contract.site_id, replaces_id=contract.replaces_id,
        emergency_sla_days=contract.emergency_sla_days,
        bill_from_install=contract.bill_from_install,
        scheduled_visits=contract.scheduled_visits,
        visit_period=str(contract.visit_period) if contract.visit_period else None,
        site_name=site.name if site else None, site_address=site.address if site else None,
        client_bank_name=bank.bank_name if bank else None, client_bik=bank.bik if bank else None,
        client_account=bank.account if bank else None)


async def _site_of(uow: ContractsUnitOfWork, contract: Contract) -> Site | None:
    return None if contract.site_id is None else await uow.site(contract.site_id)


async def sign_contract(uow: ContractsUnitOfWork, actor: Principal, contract_id: uuid.UUID,
                        signed_on: date, today: date) -> Contract:
    contract = await uow.contract(contract_id, for_update=True)
    client = await uow.client(contract.client_id)
    ensure_visible(actor, client)
    before = snapshot(contract)
    contract.sign(signed_on, today)
    # its status says whether it is active already
    uow.emit(signed_event(contract, client, await _site_of(uow, contract)))
    uow.audit("contract.signed", "contract", contract.id, before=before, after=snapshot(contract))
    if contract.replaces_id is not None:
        await _replace(uow, actor, contract, client, today)
    await uow.commit()
    return contract


async def _replace(uow: ContractsUnitOfWork, actor: Principal, successor: Contract,
                   client: Client, today: date) -> None:
    """The successor is signed: the contract it replaces ends where the successor begins."""
    assert successor.replaces_id is not None
    old = await uow.contract(successor.replaces_id, for_update=True)
    before = snapshot(old)
    old.replaced_by(successor)
    if old.kind == ContractKind.PILOT:
        old.end_pilot(min(today, successor.starts_on), PilotOutcome.CONVERTED, None)
        uow.emit(ev.PilotConverted(**_ref(old), new_contract_id=successor.id,
                                   new_number=successor.number,
                                   starts_on=successor.starts_on,
                                   monthly_fee=successor.monthly_fee))
    elif old.in_force and (old.ends_on is None or successor.starts_on <= old.ends_on):
        effective_on = max(successor.starts_on, old.starts_on)
        await _record_amendment(
            uow, actor, old, kind=AmendmentKind.TERMINATION, today=today,
            signed_on=successor.signed_on or today, effective_on=effective_on,
            reason=f"заменён договором № {successor.number}", replaced_by_id=successor.id)
    uow.audit("contract.replaced", "contract", old.id, before=before, after=snapshot(old))


async def resign(uow: ContractsUnitOfWork, actor: Principal, contract_id: uuid.UUID,
                 terms: dict[str, Any], *, commit: bool = True) -> Contract:
    """Re-signing: a new contract with the old one's terms (overridden by ``terms``)."""
    old = await uow.contract(contract_id)
    defaults = {
        "kind": old.kind if old.kind != ContractKind.PILOT else ContractKind.SUBSCRIPTION,
        "monthly_fee": old.monthly_fee, "auto_renew": old.auto_renew,
        "standard": True, "site_id": old.site_id, "vat_mode": old.vat_mode,
        "payment_form": old.payment_form, "notice_days": old.notice_days,
        "emergency_sla_days": old.emergency_sla_days, "renewal_months": old.renewal_months,
        "scheduled_visits": old.scheduled_visits, "visit_period": old.visit_period,
    }
    values = {**defaults, **{k: v for k, v in terms.items() if v is not None}}
    if "starts_on" not in values:
        raise InvalidInput("starts_on", "the new contract needs a start date")
    return await create_contract(uow, actor, client_id=old.client_id, replaces_id=old.id,
                                 commit=commit, **values)


# --- amendments ----------------------------------------------------------------------------


async def _record_amendment(uow: ContractsUnitOfWork, actor: Principal, contract: Contract, *,
                            kind: AmendmentKind, today: date, signed_on: date | None = None,
                            effective_on: date | None = None, notice_on: date | None = None,
                            new_fee: Decimal | None = None, new_ends_on: date | None = None,
                            resume_on: date | None = None, reason: str | None = None,
                            change_request_id: uuid.UUID | None = None,
                            replaced_by_id: uuid.UUID | None = None) -> Amendment:
    pending = await uow.scheduled_amendments(contract.id, kinds=(AmendmentKind.TERMINATION,))
    if pending:
        raise Conflict(f"the contract ({contract.status}) is to be terminated on "
                       f"{pending[0].effective_on}", current_state=str(contract.status))
    if kind == AmendmentKind.SUSPENSION and await uow.scheduled_amendments(
            contract.id, kinds=(AmendmentKind.SUSPENSION,)):
        raise Conflict(f"a suspension of the contract ({contract.status}) is already scheduled",
                       current_state=str(contract.status))
    before = snapshot(contract)
    amendment = contract.plan_amendment(
        number=await uow.next_amendment_number(contract.id), kind=kind,
        signed_on=signed_on or today, effective_on=effective_on, notice_on=notice_on,
        new_fee=new_fee, new_ends_on=new_ends_on, resume_on=resume_on, reason=reason,
        created_by=actor.username)
    amendment.change_request_id = change_request_id
    amendment.replaced_by_id = replaced_by_id
    if amendment.status == AmendmentStatus.SCHEDULED and amendment.effective_on <= today:
        contract.apply(amendment, today)
    uow.add(amendment)
    uow.emit(amendment_event(contract, amendment))
    uow.audit(f"contract.amended.{kind}", "amendment", amendment.id,
              after=snapshot(amendment))
    uow.audit(f"contract.amended.{kind}", "contract", contract.id, before=before,
              after=snapshot(contract))
    return amendment


def amendment_event(contract: Contract, a: Amendment) -> ev.Event:
    ref = _ref(contract)
    if a.kind == AmendmentKind.SUSPENSION:
        return ev.ContractSuspended(**ref, effective_on=a.effective_on, resume_on=a.resume_on,
                                    amendment_id=a.id, reason=a.reason)
    if a.kind == AmendmentKind.TERMINATION:
        return ev.ContractTerminated(**ref, effective_on=a.effective_on, reason=a.reason,
                                     amendment_id=a.id, replaced_by_id=a.replaced_by_id)
    return ev.ContractAmended(
        **ref, amendment_id=a.id, kind=str(a.kind), effective_on=a.effective_on,
        monthly_fee=a.new_fee, ends_on=a.new_ends_on, notice_on=a.notice_on,
        previous_monthly_fee=a.previous_fee, previous_ends_on=a.previous_ends_on,
        change_request_id=a.change_request_id)


async def amend(uow: ContractsUnitOfWork, actor: Principal, contract_id: uuid.UUID, *,
                kind: AmendmentKind, today: date, **values: Any) -> Amendment:
    contract = await uow.contract(contract_id, for_update=True)
    ensure_visible(actor, await uow.client(contract.client_id))
    amendment = await _record_amendment(uow, actor, contract, kind=kind, today=today, **values)
    await uow.commit()
    return amendment


async def resume(uow: ContractsUnitOfWork, actor: Principal, contract_id: uuid.UUID,
                 effective_on: date) -> Contract:
    contract = await uow.contract(contract_id, for_update=True)
    ensure_visible(actor, await uow.client(contract.client_id))
    before = snapshot(contract)
    contract.resume(effective_on)
    uow.emit(ev.ContractResumed(**_ref(contract), effective_on=effective_on))
    uow.audit("contract.resumed", "contract", contract.id, before=before,
              after=snapshot(contract))
    await uow.commit()
    return contract


# --- change requests -----------------------------------------------------------------------


async def submit_change_request(uow: ContractsUnitOfWork, actor: Principal,
                                contract_id: uuid.UUID, *, kind: ChangeRequestKind,
                                summary: str, received_on: date, **proposal: Any
                                ) -> ChangeRequest:
    contract = await uow.contract(contract_id)
    client = await uow.client(contract.client_id)
    ensure_visible(actor, client)
    if not contract.in_force:
        raise Conflict(f"a contract in state {contract.status} takes no change requests",
                       current_state=str(contract.status))
    if kind == ChangeRequestKind.FEE_CHANGE and proposal.get("new_fee") is None:
        raise InvalidInput("new_fee", "a fee change request names the new fee")
    if kind == ChangeRequestKind.EXTENSION and proposal.get("new_ends_on") is None:
        raise InvalidInput("new_ends_on", "an extension request names the new end date")
    request = ChangeRequest(contract_id=contract.id, client_id=client.id, kind=kind,
                            summary=summary, received_on=received_on,
                            submitted_by=actor.username, **proposal)
    uow.add(request)
    uow.emit(ev.ChangeRequestSubmitted(request_id=request.id, contract_id=contract.id,
                                       client_id=client.id, summary=summary, kind=str(kind),
                                       manager=client.manager, number=contract.number))
    uow.audit("change_request.submitted", "change_request", request.id,
              after=snapshot(request))
    await uow.commit()
    return request


async def decide_change_request(uow: ContractsUnitOfWork, actor: Principal,
                                request_id: uuid.UUID, *, approve: bool, reason: str | None,
                                today: date) -> ChangeRequest:
    request = await uow.change_request(request_id, for_update=True)
    before = snapshot(request)
    request.decide(approve=approve, by=actor.username, on=today, reason=reason)
    kind = request.amendment_kind
    if approve and kind is not None:
        contract = await uow.contract(request.contract_id, for_update=True)
        amendment = await _record_amendment(
            uow, actor, contract, kind=kind, today=today, effective_on=request.effective_on,
            notice_on=request.notice_on or (request.received_on
                                            if kind == AmendmentKind.FEE_CHANGE else None),
            new_fee=request.new_fee, new_ends_on=request.new_ends_on,
            resume_on=request.resume_on, reason=reason or request.summary,
            change_request_id=request.id)
        request.amendment_id = amendment.id
    uow.emit(ev.ChangeRequestDecided(request_id=request.id, contract_id=request.contract_id,
                                     client_id=request.client_id, approved=approve,
                                     decided_by=actor.username, reason=reason,
                                     amendment_id=request.amendment_id))
    uow.audit("change_request.decided", "change_request", request.id, before=before,
              after=snapshot(request))
    await uow.commit()
    return request


# --- pilots ----------------------------------------------------------------------------------


async def end_pilot(uow: ContractsUnitOfWork, actor: Principal, contract_id: uuid.UUID, *,
                    ended_on: date, outcome: PilotOutcome | None, note: str | None) -> Contract:
    contract = await uow.contract(contract_id, for_update=True)
    client = await uow.client(contract.client_id)
    ensure_visible(actor, client)
    if outcome == PilotOutcome.CONVERTED:
        raise InvalidInput("outcome", "a pilot is converted by signing its paid contract "
                           "(POST /api/contracts/{id}/pilot/convert)")
    before = snapshot(contract)
    if contract.kind == ContractKind.PILOT and contract.in_force \
            and ended_on < contract.starts_on:
        raise InvalidInput("ended_on", "the pilot cannot end before it starts")
    if contract.end_pilot(ended_on, outcome, note):
        uow.emit(ev.PilotEnded(**_ref(contract), ended_on=ended_on,
                               outcome=str(outcome) if outcome else None,
                               manager=client.manager))
    uow.audit("pilot.ended", "contract", contract.id, before=before, after=snapshot(contract))
    await uow.commit()
    return contract


async def convert_pilot(uow: ContractsUnitOfWork, actor: Principal, contract_id: uuid.UUID, *,
                        terms: dict[str, Any], signed_on: date | None, today: date
                        ) -> Contract:
    """A paid contract replaces the pilot; signed at once (standard terms) it starts billing."""
    pilot = await uow.contract(contract_id)
    if pilot.kind != ContractKind.PILOT:
        raise Conflict(f"only a pilot is converted (this {pilot.kind} contract is "
                       f"{pilot.status})", current_state=str(pilot.status))
    if pilot.pilot_outcome in (PilotOutcome.CONVERTED, PilotOutcome.DECLINED):
        raise Conflict(f"the pilot's outcome is already {pilot.pilot_outcome}",
                       current_state=str(pilot.status))
    if terms.get("kind") == ContractKind.PILOT:
        raise InvalidInput("kind", "a pilot converts into a paid contract, not another pilot")
    successor = await resign(uow, actor, contract_id, terms, commit=False)
    if signed_on is not None:
        if not successor.standard:
            raise Conflict("a non-standard contract is signed after the head approves it; "
                           f"it is {successor.status}",
                           current_state=str(successor.status))
        client = await uow.client(successor.client_id)
        successor.sign(signed_on, today)
        uow.emit(signed_event(successor, client, await _site_of(uow, successor)))
        uow.audit("contract.signed", "contract", successor.id, after=snapshot(successor))
        await _replace(uow, actor, successor, client, today)
    await uow.commit()
    return successor
