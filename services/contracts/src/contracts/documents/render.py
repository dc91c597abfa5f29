"""Render contract documents to DOCX (docxtpl) and PDF (HTML through WeasyPrint).

Bytes in, bytes out: templates are read as package data and nothing is written to disk,
so callers decide where a document goes (an HTTP response, an e-mail, object storage).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any

import jinja2
from docxtpl import DocxTemplate
from weasyprint import HTML

from contracts.documents.context import (
    AmendmentKind,
    ContractKind,
    DocumentContext,
)
from contracts.documents.variables import FILTERS, template_variables

_TEMPLATES_DIR: Traversable = files("contracts.documents").joinpath("templates")


class Fact(StrEnum):
    """Optional parts of a DocumentContext; the company card is always present."""

    CLIENT = "client"
    CONTRACT = "contract"
    AMENDMENT = "amendment"
    HANDOVER = "handover"


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    name: str
    title: str  # Russian document title
    needs: frozenset[Fact]
    optional: frozenset[Fact] = frozenset()
    # amendment kinds the template accepts, when it needs or may take an amendment
    amendment_kinds: frozenset[AmendmentKind] = frozenset()
    # contract kinds the template has wording for, when it prints a contract; every
    # document is worded for every kind (the parties' roles and the money differ by kind)
    contract_kinds: frozenset[ContractKind] = frozenset(ContractKind)

    @property
    def uses(self) -> frozenset[Fact]:
        return self.needs | self.optional


_PARTIES = frozenset({Fact.CLIENT, Fact.CONTRACT})

TEMPLATES: MappingProxyType[str, TemplateSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            TemplateSpec("contract", "Договор", _PARTIES),
            TemplateSpec(
                "price_protocol",
                "Протокол согласования цены",
                _PARTIES,
                optional=frozenset({Fact.AMENDMENT}),
                amendment_kinds=frozenset({AmendmentKind.FEE_CHANGE, AmendmentKind.EXTENSION}),
            ),
            TemplateSpec(
                "acceptance_act",
                "Акт приёма-передачи оборудования",
                _PARTIES | {Fact.HANDOVER},
            ),
            TemplateSpec(
                "termination_agreement",
                "Дополнительное соглашение о расторжении договора",
                _PARTIES | {Fact.AMENDMENT},
                amendment_kinds=frozenset({AmendmentKind.TERMINATION}),
            ),
            TemplateSpec(
                "extension_agreement",
                "Дополнительное соглашение о продлении договора",
                _PARTIES | {Fact.AMENDMENT},
                amendment_kinds=frozenset({AmendmentKind.EXTENSION}),
            ),
            TemplateSpec("company_card", "Карточка предприятия", frozenset()),
        )
    }
)
"""Every document the service can produce, by template name."""


class DocumentError(Exception):
    """Base class for errors raised while preparing a document."""


class UnknownTemplate(DocumentError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown document template {name!r}; known: {', '.join(TEMPLATES)}")
        self.name = name


class InvalidFacts(DocumentError, ValueError):
    """The context lacks a part the template needs, or carries the wrong amendment."""


def get_template(name: str) -> TemplateSpec:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise UnknownTemplate(name) from None


def _variables(spec: TemplateSpec, context: DocumentContext) -> dict[str, Any]:
    missing = [fact.value for fact in Fact if fact in spec.needs and getattr(context, fact) is None]
    if missing:
        raise InvalidFacts(f"template {spec.name!r} needs: {', '.join(missing)}")
    amendment = context.amendment
    if (
        amendment is not None
        and Fact.AMENDMENT in spec.uses
        and amendment.kind not in spec.amendment_kinds
    ):
        kinds = ", ".join(sorted(spec.amendment_kinds))
        raise InvalidFacts(
            f"template {spec.name!r} takes an amendment of kind {kinds}, got {amendment.kind}"
        )
    contract = context.contract
    if (
        contract is not None
        and Fact.CONTRACT in spec.uses
        and contract.kind not in spec.contract_kinds
    ):
        kinds = ", ".join(sorted(spec.contract_kinds))
        raise InvalidFacts(
            f"template {spec.name!r} has wording for {kinds} contracts, not {contract.kind}"
        )
    # parts the template does not use are dropped, so they cannot leak into its wording
    unused = {fact.value: None for fact in Fact if fact not in spec.uses}
    trimmed = context.model_copy(update=unused)
    return template_variables(spec.title, trimmed)


def _environment(**options: Any) -> jinja2.Environment:
    # StrictUndefined: a misspelt variable in an edited template fails loudly, never prints ""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True, **options)
    env.filters.update(FILTERS)
    return env


def _load_html(name: str) -> str:
    return _TEMPLATES_DIR.joinpath("html", name).read_text(encoding="utf-8")


@cache
def _html_environment() -> jinja2.Environment:
    return _environment(
        loader=jinja2.FunctionLoader(_load_html), trim_blocks=True, lstrip_blocks=True
    )


def render_docx(template_name: str, context: DocumentContext) -> bytes:
    """Fill the Word template ``template_name`` and return the .docx bytes."""
    spec = get_template(template_name)
    variables = _variables(spec, context)
    source = _TEMPLATES_DIR.joinpath("docx", f"{spec.name}.docx").read_bytes()
    document = DocxTemplate(io.BytesIO(source))
    # a fresh environment per call: docxtpl mutates the one it is given
    document.render(variables, jinja_env=_environment(), autoescape=True)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def render_html(template_name: str, context: DocumentContext) -> str:
    """The HTML the PDF is printed from; also usable as an on-screen preview."""
    spec = get_template(template_name)
    variables = _variables(spec, context)
    return _html_environment().get_template(f"{spec.name}.html").render(variables)


def render_pdf(template_name: str, context: DocumentContext) -> bytes:
    """Render ``template_name`` to PDF bytes (A4, DejaVu fonts)."""
    pdf = HTML(string=render_html(template_name, context)).write_pdf()
    assert pdf is not None  # write_pdf returns the bytes when given no target
    return pdf
