"""Claims and court cases, upsell deals, feedback and contacts with clients."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from clientops_shared.auth import Principal
from clientops_shared.errors import Conflict, InvalidInput
from clientops_shared.events import contracts as ev
from contracts.adapters.storage import FileStorage
from contracts.domain.claims import Claim, ClaimStage
from contracts.domain.files import DocumentKind, StoredDocument
from contracts.domain.sales import Channel, Deal, DealStage, Feedback, FeedbackKind, Interaction
from contracts.service_layer.documents import store_upload
from contracts.service_layer.handlers import ensure_visible, snapshot
from contracts.service_layer.unit_of_work import ContractsUnitOfWork

# --- claims ---------------------------------------------------------------------------------


async def open_claim(uow: ContractsUnitOfWork, actor: Principal, *, client_id: uuid.UUID,
                     subject: str, received_on: date, contract_id: uuid.UUID | None = None,
                     description: str | None = None, amount: Decimal | None = None,
                     answer_due_on: date | None = None, lawyer: str | None = None,
                     churn_risk: bool = False) -> Claim:
    client = await uow.client(client_id)
    ensure_visible(actor, client)
    if contract_id is not None and (await uow.contract(contract_id)).client_id != client.id:
        raise Conflict("the contract belongs to another client", field="contract_id")
    claim = Claim(client_id=client.id, contract_id=contract_id, subject=subject,
                  description=description, amount=amount, received_on=received_on,
                  answer_due_on=answer_due_on, lawyer=lawyer, churn_risk=churn_risk,
                  opened_by=actor.username)
    uow.add(claim)
    uow.emit(ev.ClaimOpened(claim_id=claim.id, client_id=client.id, contract_id=contract_id,
                            subject=subject, amount=amount, answer_due_on=answer_due_on,
                            lawyer=lawyer, churn_risk=churn_risk, manager=client.manager))
    uow.audit("claim.opened", "claim", claim.id, after=snapshot(claim))
    await uow.commit()
    return claim


async def _visible_claim(uow: ContractsUnitOfWork, actor: Principal, claim_id: uuid.UUID,
                         for_update: bool = True) -> Claim:
    claim = await uow.claim(claim_id, for_update=for_update)
    ensure_visible(actor, await uow.client(claim.client_id))
    return claim


async def move_claim(uow: ContractsUnitOfWork, actor: Principal, claim_id: uuid.UUID, *,
                     stage: ClaimStage, note: str | None, today: date) -> Claim:
    claim = await _visible_claim(uow, actor, claim_id)
    before = snapshot(claim)
    previous = claim.move_to(stage, today, note)
    uow.emit(ev.ClaimStageChanged(claim_id=claim.id, client_id=claim.client_id,
                                  stage=str(stage), previous_stage=str(previous), note=note))
    uow.audit("claim.stage_changed", "claim", claim.id, before=before, after=snapshot(claim))
    await uow.commit()
    return claim


async def update_claim(uow: ContractsUnitOfWork, actor: Principal, claim_id: uuid.UUID, *,
                       changes: dict[str, object]) -> Claim:
    claim = await _visible_claim(uow, actor, claim_id)
    client = await uow.client(claim.client_id)
    before = snapshot(claim)
    if "lawyer" in changes:
        lawyer = changes["lawyer"]
        assert lawyer is None or isinstance(lawyer, str)
        claim.assign_lawyer(lawyer)
    churn = changes.get("churn_risk")
    if churn is not None:
        assert isinstance(churn, bool)
        if claim.flag_churn_risk(churn):
            uow.emit(ev.ClaimChurnRiskFlagged(claim_id=claim.id, client_id=claim.client_id,
                                              subject=claim.subject, churn_risk=churn,
                                              manager=client.manager))
    uow.audit("claim.updated", "claim", claim.id, before=before, after=snapshot(claim))
    await uow.commit()
    return claim


async def attach_court_decision(uow: ContractsUnitOfWork, storage: FileStorage,
                                actor: Principal, claim_id: uuid.UUID, *,
                                filename: str | None, declared_type: str | None, data: bytes,
                                limit: int) -> StoredDocument:
    claim = await _visible_claim(uow, actor, claim_id)
    client = await uow.client(claim.client_id)
    if claim.stage not in (ClaimStage.COURT, ClaimStage.RESOLVED, ClaimStage.LOST):
        raise Conflict("court decisions are attached once the claim went to court; it is "
                       f"{claim.stage}",
                       current_state=str(claim.stage))

    def announce(stored: StoredDocument) -> None:
        uow.emit(ev.ClaimDecisionAttached(claim_id=claim.id, client_id=claim.client_id,
                                          document_id=stored.id, filename=stored.filename))

    return await store_upload(uow, storage, actor, client=client,
                              kind=DocumentKind.COURT_DECISION, filename=filename,
                              declared_type=declared_type, data=data, limit=limit,
                              contract_id=claim.contract_id, claim_id=claim.id,
                              on_stored=announce)


# --- deals ----------------------------------------------------------------------------------


async def create_deal(uow: ContractsUnitOfWork, actor: Principal, *, client_id: uuid.UUID,
                      title: str, equipment: str | None = None, amount: Decimal | None = None,
                      owner: str | None = None, handed_to_sales: bool = False,
                      notes: str | None = None) -> Deal:
    client = await uow.client(client_id)
    ensure_visible(actor, client)
    if handed_to_sales and owner is None:
        raise InvalidInput("owner", "a deal handed to sales names the sales manager")
    # kept by the client's manager unless handed over (seed 000 §14)
    deal = Deal(client_id=client.id, title=title, equipment=equipment, amount=amount,
                owner=owner or client.manager or actor.username,
                handed_to_sales=handed_to_sales, notes=notes, created_by=actor.username)
    uow.add(deal)
    uow.emit(ev.DealCreated(deal_id=deal.id, client_id=client.id, title=title, amount=amount,
                            owner=deal.owner, stage=str(deal.stage), equipment=equipment,
                            handed_to_sales=handed_to_sales))
    uow.audit("deal.created", "deal", deal.id, after=snapshot(deal))
    await uow.commit()
    return deal


async def _visible_deal(uow: ContractsUnitOfWork, actor: Principal, deal_id: uuid.UUID
                        ) -> Deal:
    deal = await uow.deal(deal_id, for_update=True)
    client = await uow.client(deal.client_id)
    if not (actor.may_see_client_of(client.manager) or deal.owner == actor.username):
        ensure_visible(actor, client)
    return deal


async def move_deal(uow: ContractsUnitOfWork, actor: Principal, deal_id: uuid.UUID, *,
                    stage: DealStage, today: date) -> Deal:
    deal = await _visible_deal(uow, actor, deal_id)
    before = snapshot(deal)
    previous = deal.move_to(stage, today)
    uow.emit(ev.DealStageChanged(deal_id=deal.id, client_id=deal.client_id, stage=str(stage),
                                 previous_stage=str(previous), owner=deal.owner,
                                 amount=deal.amount))
    uow.audit("deal.stage_changed", "deal", deal.id, before=before, after=snapshot(deal))
    await uow.commit()
    return deal


async def hand_over_deal(uow: ContractsUnitOfWork, actor: Principal, deal_id: uuid.UUID, *,
                         to: str) -> Deal:
    deal = await _visible_deal(uow, actor, deal_id)
    before = snapshot(deal)
    previous = deal.owner
    deal.hand_over(to)
    uow.emit(ev.DealHandedOver(deal_id=deal.id, client_id=deal.client_id, title=deal.title,
                               owner=to, previous_owner=previous, amount=deal.amount))
    uow.audit("deal.handed_over", "deal", deal.id, before=before, after=snapshot(deal))
    await uow.commit()
    return deal


# --- feedback and contacts --------------------------------------------------------------------


async def record_feedback(uow: ContractsUnitOfWork, actor: Principal, client_id: uuid.UUID, *,
                          kind: FeedbackKind, text: str, recorded_on: date) -> Feedback:
    client = await uow.client(client_id)
    ensure_visible(actor, client)
    item = Feedback(client_id=client.id, kind=kind, text=text, recorded_on=recorded_on,
                    recorded_by=actor.username)
    uow.add(item)
    uow.emit(ev.FeedbackRecorded(feedback_id=item.id, client_id=client.id, kind=str(kind),
                                 text=text, recorded_by=actor.username))
    uow.audit("feedback.recorded", "feedback", item.id, after=snapshot(item))
    await uow.commit()
    return item


async def record_interaction(uow: ContractsUnitOfWork, actor: Principal, client_id: uuid.UUID,
                             *, channel: Channel, on: date, summary: str,
                             contact_name: str | None) -> Interaction:
    client = await uow.client(client_id, for_update=True)
    ensure_visible(actor, client)
    item = Interaction(client_id=client.id, channel=channel, on=on, summary=summary,
                       contact_name=contact_name, recorded_by=actor.username)
    client.contacted(on)
    uow.add(item)
    uow.audit("interaction.recorded", "interaction", item.id, after=snapshot(item))
    await uow.commit()
    return item
