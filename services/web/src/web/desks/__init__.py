"""The department desks. Each desk is one module here with a ``router`` and its templates in
``templates/desks/<name>/``; adding a desk (dispatch, logistics) is adding a module and a line
to ``DESKS``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

EVERYONE = frozenset({"manager", "head", "billing", "dispatcher", "technician", "logistics",
                      "lawyer", "accountant", "admin", "sales"})


@dataclass(frozen=True)
class Desk:
    module: str  # web.desks.<module> has ``router``
    title: str  # the nav label
    path: str  # where the nav link goes
    roles: frozenset[str]  # who sees it in the nav (admin sees every desk)
    in_nav: bool = True


DESKS: tuple[Desk, ...] = (
    Desk("my_day", "Мой день", "/", EVERYONE),
    Desk("requests", "Обращения", "/requests",
         frozenset({"manager", "head", "billing", "accountant", "dispatcher", "lawyer",
                    "sales"})),
    # before contracts: its /contracts/{id}/… routes would take /contracts/claims
    Desk("claims", "Претензии", "/contracts/claims",
         frozenset({"lawyer", "head", "manager"}), in_nav=False),
    Desk("contracts", "Договоры", "/contracts",
         frozenset({"manager", "head", "lawyer", "sales"})),
    # after contracts and before the contract page: /contracts/deals is not a contract id
    Desk("sales", "Сделки", "/contracts/deals", frozenset({"sales", "manager", "head"}),
         in_nav=False),
    # last of /contracts/…: its GET /contracts/{id} would take the desk's other pages
    Desk("contract_card", "Договор", "/contracts", frozenset({"manager", "head", "lawyer",
                                                               "sales"}), in_nav=False),
    Desk("billing", "Биллинг", "/billing", frozenset({"billing", "accountant", "head"})),
    # the billing desk's back office: its own modules, reached from the billing tabs
    Desk("rent", "Аренда площадок", "/billing/rent",
         frozenset({"billing", "accountant", "head"}), in_nav=False),
    Desk("payments", "Платежи", "/billing/payments",
         frozenset({"billing", "accountant", "head"}), in_nav=False),
    Desk("invoices", "Счета", "/billing/invoices",
         frozenset({"billing", "accountant", "head"}), in_nav=False),
    Desk("payables", "Счета поставщиков", "/billing/payables",
         frozenset({"billing", "accountant", "head"}), in_nav=False),
    Desk("dispatch", "Выезды", "/dispatch", frozenset({"dispatcher", "head"})),
    Desk("technician", "Мои выезды", "/tech", frozenset({"technician"})),
    Desk("logistics", "Логистика", "/logistics", frozenset({"logistics", "head"})),
    Desk("head", "Руководитель", "/head", frozenset({"head"})),
    Desk("admin", "Пользователи", "/admin/users", frozenset()),
    Desk("operations", "Недоставленные события", "/admin/dead-letters", frozenset(),
         in_nav=False),
    Desk("clients", "Клиент", "/clients", EVERYONE, in_nav=False),
)


def visible_desks(role: str) -> list[Desk]:
    return [d for d in DESKS if d.in_nav and (role == "admin" or role in d.roles)]


def routers() -> list[Any]:
    return [importlib.import_module(f"web.desks.{d.module}").router for d in DESKS]
