from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from billing.domain.dunning import DEFAULT_ESCALATION, EscalationPolicy
from billing.domain.payment_qr import PaymentDetails
from billing.domain.periods import DEFAULT_DUE_DAY, INVOICE_RUN_DAY
from billing.domain.vat import VatRateTable
from clientops_shared.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    """Billing configuration; every business default of BILLING-RULES.md can be set here."""

    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    service_name: str = "billing"
    port: int = 8002

    # the monthly run and payment terms
    run_day: int = Field(default=INVOICE_RUN_DAY, ge=1, le=28)
    due_day: int = Field(default=DEFAULT_DUE_DAY, ge=1, le=31)
    run_batch: int = Field(default=500, ge=1, le=10_000)
    vat_rates: dict[str, str] = Field(
        default_factory=lambda: {"2019-01-01": "20", "2026-01-01": "22"})
    # escalation: reminder day number -> action; actions that hand the case on
    escalation: dict[str, str] = Field(default_factory=lambda: {
        str(stage.day): str(stage.action) for stage in DEFAULT_ESCALATION.stages})
    escalation_hands_on: list[str] = Field(default_factory=lambda: ["suspension_proposal"])
    scheduler_tick_seconds: float = 300.0
    metrics_poll_seconds: float = 30.0  # business gauges for /metrics
    dunning_ahead_days: int = Field(default=0, ge=0, le=60)
    """How far ahead a dunning run may be dated: 0 (never a future day) except in whole-system
    rehearsals, whose invoices are issued today and fall due days later."""

    auto_apply_advance: bool = True
    """A client's advance (over-payment) pays their next invoice as soon as it is issued;
    ``BILLING_AUTO_APPLY_ADVANCE=0`` leaves it on the balance until billing applies it."""

    # our own requisites: invoices, the payment QR code, telling our payments from clients'
    company_name: str = 'ООО "КЛИЕНТОПС"'
    company_inn: str = "7701000001"
    company_kpp: str = "770101001"
    company_address: str = "г. Москва"
    company_account: str = "40702810938000012345"
    company_bank: str = "ПАО СБЕРБАНК"
    company_bic: str = "044525225"
    company_corr_account: str = "30101810400000000225"
    company_accounts: list[str] = Field(default_factory=list)
    """Other settlement accounts of ours (the main one is always included)."""

    # outside systems: unset URL / folder means the in-memory fake (development, tests)
    planfact_url: str | None = None
    planfact_api_key: str = ""
    planfact_account_id: str | None = None
    planfact_category_ids: dict[str, str] = Field(default_factory=dict)
    onec_exchange_dir: str | None = None

    def vat_table(self) -> VatRateTable:
        return VatRateTable.from_data(self.vat_rates)

    def escalation_policy(self) -> EscalationPolicy:
        return EscalationPolicy.from_data(self.escalation, hands_on=self.escalation_hands_on)

    def our_accounts(self) -> set[str]:
        return {self.company_account, *self.company_accounts}

    def payee(self) -> PaymentDetails:
        return PaymentDetails(name=self.company_name, personal_acc=self.company_account,
                              bank_name=self.company_bank, bic=self.company_bic,
                              corresp_acc=self.company_corr_account, payee_inn=self.company_inn,
                              kpp=self.company_kpp)
