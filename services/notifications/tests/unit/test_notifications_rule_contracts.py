"""The rules against the real event contracts, and the rule features the I/O slice relies on."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, get_args, get_origin
from zoneinfo import ZoneInfo

import pytest

from clientops_shared.events import REGISTRY
from clientops_shared.events import field_ops as fo
from notifications.domain.mail_templates import render_mail
from notifications.domain.model import TaskState
from notifications.domain.rules import (
    PlanContext,
    RuleError,
    WorkingCalendar,
    apply_plan,
    default_rules,
    load_rules,
    plan,
)

pytestmark = pytest.mark.unit

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 21, 10, 0, tzinfo=MSK)
RULES = default_rules()


def ctx(**overrides: Any) -> PlanContext:
    base = PlanContext(now=NOW, head="head", calendar=WorkingCalendar(), client_manager="ivanov",
                       client_name="ООО Ромашка", client_email="buh@romashka.ru")
    return replace(base, **overrides)


def contract_fields(event_type: str) -> set[str]:
    versions = [cls for (t, _), cls in REGISTRY.items() if t == event_type]
    assert versions, f"{event_type}: the rules name an event type no producer publishes"
    return {name for cls in versions for name in cls.model_fields}


@pytest.mark.parametrize("event_type", sorted(RULES.events))
def test_every_rule_field_exists_on_the_event_contract(event_type: str) -> None:
    rule = RULES.events[event_type]
    missing = set(rule.fields) - contract_fields(event_type)
    assert not missing, f"{event_type}: fields {sorted(missing)} are not in the contract"
    for mail in rule.mails:
        assert set(mail.sensitive) <= set(rule.fields), mail.template


def _sample(event_type: str) -> dict[str, Any]:
    """A payload built from the contract itself: every field filled with a plausible value."""
    (cls,) = [c for (t, _), c in REGISTRY.items() if t == event_type]
    values: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        kinds = set(get_args(info.annotation)) | {info.annotation}
        if get_origin(info.annotation) is list:
            values[name] = []
        elif uuid.UUID in kinds:
            values[name] = str(uuid.UUID(int=len(values) + 1))
        elif datetime in kinds:
            values[name] = "2026-12-24T07:00:00+00:00"
        elif date in kinds:
            values[name] = "2026-12-28"
        elif bool in kinds:
            values[name] = True
        elif Decimal in kinds or "Decimal" in str(info.annotation):
            values[name] = "15250.00"
        elif int in kinds:
            values[name] = 30
        elif name == "period":
            values[name] = "2026-12"
        elif name == "stage":
            values[name] = "head"
        else:
            values[name] = f"{name}-value"
    return cls.model_validate(values).model_dump(mode="json")


@pytest.mark.parametrize("event_type", sorted(RULES.events))
def test_a_contract_shaped_payload_plans_and_its_mails_render(event_type: str) -> None:
    payload = _sample(event_type)
    result = plan(event_type, payload, ctx())
    for mail in result.mails:
        subject, text, html = render_mail(mail.template, **mail.context)
        assert subject and "{" not in text and html


def test_paid_invoice_ends_the_reminder_for_good() -> None:
    overdue = _sample("billing.invoice.overdue")
    paid = plan("billing.invoice.paid", {"invoice_id": overdue["invoice_id"],
                                         "client_id": overdue["client_id"]}, ctx())
    # the call and the head's escalation about the invoice both end for good (issue 13 §4)
    assert paid.finished_duties == {
        ("payment_reminder", f"payment_reminder:{overdue['invoice_id']}"),
        ("escalation", f"escalation:unpaid:{overdue['invoice_id']}")}
    # yesterday's overdue event arrives late (redelivery, re-ordering): no new call task
    late = plan("billing.invoice.overdue", overdue, ctx())
    changes = apply_plan(late, [], NOW, finished=paid.finished_duties)
    assert changes.created == [] and [d.kind for d in changes.skipped] == ["payment_reminder"]
    # another invoice of the same client still gets its call
    other = plan("billing.invoice.overdue", {**overdue, "invoice_id": str(uuid.uuid4())}, ctx())
    assert len(apply_plan(other, [], NOW, finished=paid.finished_duties).created) == 1


def test_renewal_and_rejection_do_not_end_a_duty_for_good() -> None:
    # a contract renews every year and a rejected contract may be submitted again
    for event_type in ("contracts.contract.renewed", "contracts.contract.rejected",
                       "field_ops.work_order.failed"):
        assert plan(event_type, _sample(event_type), ctx()).finished_duties == frozenset()


def test_credit_note_cancels_the_reminder_of_the_invoice_it_replaces() -> None:
    overdue = _sample("billing.invoice.overdue")
    task = apply_plan(plan("billing.invoice.overdue", overdue, ctx()), [], NOW).created[0]
    note = {"credit_note_id": str(uuid.uuid4()), "number": "КН-3", "client_id":
            overdue["client_id"], "cancels_invoice_id": overdue["invoice_id"]}
    changes = apply_plan(plan("billing.credit_note.issued", note, ctx()), [task], NOW)
    assert changes.closed == [task] and task.state is TaskState.CANCELLED
    assert task.outcome == "cancelled by credit note КН-3"


def test_a_closing_event_with_a_null_id_closes_nothing_instead_of_failing() -> None:
    note = {"credit_note_id": str(uuid.uuid4()), "number": "КН-4", "client_id": "c-1",
            "cancels_invoice_id": None}
    assert plan("billing.credit_note.issued", note, ctx()).is_empty


def test_claim_without_an_answer_deadline_gets_the_fallback_due() -> None:
    payload = {"claim_id": "cl-1", "client_id": "c-1", "subject": "шум", "answer_due_on": None,
               "lawyer": "smirnova", "churn_risk": False}
    (draft,) = plan("contracts.claim.opened", payload, ctx()).tasks
    # five working days from Monday 21.12.2026
    assert draft.due_at == datetime(2026, 12, 28, 18, 0, tzinfo=MSK)


def test_if_missing_needs_a_from_field() -> None:
    text = '''schema = 1
[overdue]
reason = "x {title}"
due = { working_hours = 4 }
[missing_email]
kind = "missing_email"
function = "contracts"
title = "t"
due = { working_days = 1 }
[events."a.b.c"]
fields = ["client_id", "x_id"]
[[events."a.b.c".tasks]]
kind = "k"
action = "do"
function = "support"
title = "t"
assignee = "head"
due = { working_days = 1, if_missing = { working_days = 2 } }
key = "k:{x_id}"
'''
    with pytest.raises(RuleError, match="if_missing needs a 'from'"):
        load_rules(text)


def test_resent_invoice_mails_the_client_again_with_the_pdf() -> None:
    payload = _sample("billing.invoice.resent")
    (mail,) = plan("billing.invoice.resent", payload, ctx()).mails
    assert mail.template == "invoice_resent" and mail.attachments == ("invoice_pdf",)
    assert mail.dedupe_key is None  # each re-send request is one more mail


def test_training_invitation_goes_to_the_client_once_per_date() -> None:
    event = fo.TrainingScheduled(session_id=uuid.uuid4(), client_id=uuid.uuid4(),
                                 starts_at=datetime(2026, 12, 24, 11, 0, tzinfo=MSK))
    payload = event.model_dump(mode="json")
    (mail,) = plan("field_ops.training.scheduled", payload, ctx()).mails
    assert mail.template == "training_invitation"
    assert mail.dedupe_key == f"training_invitation:{event.session_id}:{payload['starts_at']}"
    subject, _, _ = render_mail(mail.template, **mail.context)
    assert subject == "Приглашение на обучение 24.12.2026 11:00"


def test_cloud_credentials_secret_fields_are_known_to_the_rules() -> None:
    assert RULES.sensitive_fields("field_ops.cloud_tenant.provisioned") == {"password",
                                                                             "setup_url"}
    assert RULES.sensitive_fields("billing.invoice.issued") == frozenset()
    assert date(2026, 12, 21) == NOW.date()
