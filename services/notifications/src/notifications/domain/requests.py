"""Clients' requests (обращения, seed 000 §1, §20; 004 §7.5): a call or a letter from a client
— a question, a payment complaint, a problem with a terminal — registered in the requests
journal with a number, routed to the function that answers it, answered, and the client
informed. Plain Python, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from uuid import UUID

from notifications.domain.model import MOSCOW, DomainError, Function, require_aware

NUMBER_PREFIX = "ОБ"


class RequestKind(StrEnum):
    QUESTION = "question"
    PAYMENT = "payment"
    TERMINAL = "terminal"
    CONTRACT = "contract"


class Channel(StrEnum):
    CALL = "call"
    LETTER = "letter"
    EMAIL = "email"


class RequestState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


KIND_TITLES: Mapping[RequestKind, str] = MappingProxyType(
    {
        RequestKind.QUESTION: "вопрос по работе с приложением",
        RequestKind.PAYMENT: "вопрос по оплате, платёж",
        RequestKind.TERMINAL: "проблема с терминалом или оборудованием",
        RequestKind.CONTRACT: "вопрос по договору",
    }
)
CHANNEL_TITLES: Mapping[Channel, str] = MappingProxyType(
    {Channel.CALL: "звонок", Channel.LETTER: "письмо", Channel.EMAIL: "электронная почта"}
)
STATE_TITLES: Mapping[RequestState, str] = MappingProxyType(
    {RequestState.OPEN: "ждёт ответа", RequestState.ANSWERED: "дан ответ"}
)
# who answers each kind of request
ROUTES: Mapping[RequestKind, Function] = MappingProxyType(
    {
        RequestKind.QUESTION: Function.SUPPORT,
        RequestKind.PAYMENT: Function.BILLING,
        RequestKind.TERMINAL: Function.FIELD_OPS,
        RequestKind.CONTRACT: Function.CONTRACTS,
    }
)
FUNCTION_TITLES: Mapping[Function, str] = MappingProxyType(
    {
        Function.SUPPORT: "техподдержка",
        Function.BILLING: "расчёты с клиентами",
        Function.FIELD_OPS: "выездные работы",
        Function.CONTRACTS: "договоры",
        Function.LOGISTICS: "логистика",
        Function.CLAIMS: "претензии",
    }
)
# roles whose people answer a function's requests (the head and admin answer any)
ANSWERING_ROLES: Mapping[Function, frozenset[str]] = MappingProxyType(
    {
        Function.SUPPORT: frozenset({"manager"}),
        Function.BILLING: frozenset({"billing", "accountant"}),
        Function.FIELD_OPS: frozenset({"dispatcher"}),
        Function.CONTRACTS: frozenset({"manager", "lawyer"}),
        Function.LOGISTICS: frozenset({"logistics"}),
        Function.CLAIMS: frozenset({"lawyer"}),
    }
)
OVERSEERS = frozenset({"head", "admin"})


class RequestError(DomainError):
    """A rule of the requests journal was broken; the message (Russian) says which one."""


def journal_number(year: int, seq: int) -> str:
    """The request's number in the journal: «ОБ-2026-00017», gap-free within a year."""
    if seq < 1:
        raise RequestError("номер в журнале начинается с 1")
    return f"{NUMBER_PREFIX}-{year}-{seq:05d}"


def functions_of(role: str) -> frozenset[Function]:
    """The functions whose requests this role answers."""
    if role in OVERSEERS:
        return frozenset(ROUTES.values())
    return frozenset(f for f, roles in ANSWERING_ROLES.items() if role in roles)


@dataclass(eq=False)
class ClientRequest:
    id: UUID
    number: str
    client_id: UUID
    kind: RequestKind
    channel: Channel
    subject: str
    registered_by: str
    registered_at: datetime
    function: Function
    state: RequestState = RequestState.OPEN
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware("registered_at", self.registered_at)
        if not self.subject.strip():
            raise RequestError("опишите, с чем обратился клиент")

    @classmethod
    def register(
        cls,
        *,
        id: UUID,
        seq: int,
        client_id: UUID,
        kind: RequestKind,
        channel: Channel,
        subject: str,
        by: str,
        at: datetime,
    ) -> ClientRequest:
        """A new request, numbered in the year it came in (Moscow time), routed by its kind."""
        require_aware("at", at)
        year = at.astimezone(MOSCOW).year
        return cls(
            id=id,
            number=journal_number(year, seq),
            client_id=client_id,
            kind=kind,
            channel=channel,
            subject=subject.strip(),
            registered_by=by,
            registered_at=at,
            function=ROUTES[kind],
        )

    def may_answer(self, username: str, role: str, client_manager: str | None) -> bool:
        """The routed function's people answer; a manager only for their own clients."""
        if role in OVERSEERS:
            return True
        if role not in ANSWERING_ROLES[self.function]:
            return False
        return role != "manager" or client_manager == username

    def give_answer(self, text: str, by: str, at: datetime) -> None:
        require_aware("at", at)
        if self.state is RequestState.ANSWERED:
            raise RequestError(f"на обращение {self.number} уже дан ответ")
        if not text.strip():
            raise RequestError("напишите ответ клиенту")
        self.state = RequestState.ANSWERED
        self.answer = text.strip()
        self.answered_by = by
        self.answered_at = at
