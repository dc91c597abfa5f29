"""Issue 13 §2 (contracts) at the page: the web frontend in-process on top of the real
contracts service (in-process too, its own database). A manager changes a signed contract
through its page — fee change, extension, suspension and resume, termination — with bad
input refused next to the field in Russian and nothing written; the amendment's document
says what to fill in first and then downloads; the head decides change requests; a contract
is re-signed and a pilot ends and converts; deals, feedback and the contact log."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from clientops_shared.jobs import business_today
from clientops_shared.testing import Servers, random_inn, running_app

from .test_web_pages import closed_port, csrf, log_in

pytestmark = pytest.mark.integration
TODAY = business_today()
START = TODAY.replace(day=1)
END = START.replace(year=START.year + 1) - timedelta(days=1)


class Desk:
    def __init__(
        self, web: httpx.AsyncClient, contracts: httpx.AsyncClient, servers: Servers
    ) -> None:
        self.web, self.contracts, self.servers = web, contracts, servers
        self.manager = servers.auth("manager1", "manager")

    async def page(self, path: str) -> str:
        r = await self.web.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:800])
        return r.text

    async def submit(self, form_path: str, action: str, data: dict[str, str]) -> httpx.Response:
        """The form as a browser sends it: the page's CSRF token and Idempotency-Key."""
        html = await self.page(form_path)
        extra = {}
        key = re.search(r'name="idempotency_key" value="([^"]+)"', html)
        if key:
            extra["idempotency_key"] = key.group(1)
        return await self.web.post(action, data={"csrf_token": csrf(html), **extra, **data})

    async def api(self, path: str, **params: Any) -> Any:
        r = await self.contracts.get(path, headers=self.manager, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    async def client(self, **extra: Any) -> str:
        r = await self.contracts.post(
            "/api/clients",
            headers=self.manager,
            json={
                "name": f"ООО «Договорный {uuid.uuid4().hex[:4]}»",
                "inn": random_inn(),
                "email": "c@example.ru",
                "manager": "manager1",
                **extra,
            },
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def signed(
        self,
        client_id: str,
        kind: str = "subscription",
        fee: str = "12000.00",
        ends_on: date | None = END,
    ) -> str:
        site = (
            await self.contracts.post(
                f"/api/clients/{client_id}/sites",
                headers=self.manager,
                json={"name": "Офис", "address": "Москва, Тверская, 1", "access_points": 2},
            )
        ).json()
        r = await self.contracts.post(
            "/api/contracts",
            headers=self.manager,
            json={
                "client_id": client_id,
                "kind": kind,
                "starts_on": START.isoformat(),
                "ends_on": ends_on.isoformat() if ends_on else None,
                "monthly_fee": fee,
                "standard": True,
                "site_id": site["id"],
            },
        )
        assert r.status_code == 201, r.text
        contract_id = str(r.json()["id"])
        r = await self.contracts.post(
            f"/api/contracts/{contract_id}/sign",
            headers=self.manager,
            json={"signed_on": START.isoformat()},
        )
        assert r.status_code == 200, r.text
        return contract_id


# the card's other panels: services that are down here (each panel says so)
UPSTREAMS = {
    "contracts": "http://contracts",
    **{
        name: f"http://127.0.0.1:{closed_port()}"
        for name in ("billing", "field_ops", "logistics", "notifications")
    },
}


@pytest.fixture
async def desk(servers: Servers) -> AsyncIterator[Desk]:
    async with (
        running_app(servers, "contracts") as (contracts_app, contracts),
        running_app(
            servers, "web", seed_demo_users=True, cookie_secure=False, upstreams=UPSTREAMS
        ) as (web_app, web),
    ):
        web_app.state.http = httpx.AsyncClient(
            mounts={"http://contracts": httpx.ASGITransport(app=contracts_app)}
        )
        try:
            yield Desk(web, contracts, servers)
        finally:
            await web_app.state.http.aclose()


def field_error(html: str, field: str) -> str:
    found = re.search(rf'class="field-error" data-field="{re.escape(field)}">([^<]+)<', html)
    assert found is not None, f"no message at {field}: {html[html.find('<main') :][:3000]}"
    return found.group(1)


def amendment_rows(html: str) -> list[str]:
    return [
        re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r'<tr data-amendment="\d+">(.*?)</tr>', html, re.S)
    ]


async def test_a_manager_amends_a_contract_on_its_page_and_bad_input_stays_at_the_field(
    desk: Desk,
) -> None:
    client_id = await desk.client()
    contract_id = await desk.signed(client_id)
    await log_in(desk.web, "manager1")
    card = await desk.page(f"/clients/{client_id}")
    assert f'href="/contracts/{contract_id}"' in card  # the card leads to the contract
    page = await desk.page(f"/contracts/{contract_id}")
    for key in ("fee-change", "extension", "suspend", "terminate", "change-request", "resign"):
        assert f'data-action="{key}"' in page, key
    assert 'data-action="resume"' not in page  # an active contract is not resumed
    assert "Дополнительных соглашений нет." in page

    form = f"/contracts/{contract_id}/do/fee-change"
    cases = [
        ("a subscription for free", {"new_fee": "0"}, "new_fee", "больше нуля"),
        ("above 100 000 000", {"new_fee": "100 000 000,01"}, "new_fee", "100 000 000,00"),
        ("14 digits", {"new_fee": "12345678901234"}, "new_fee", "Слишком большая"),
        ("not an amount", {"new_fee": "много"}, "new_fee", "Введите сумму"),
        ("blank", {"new_fee": ""}, "new_fee", "Обязательное поле"),
        (
            "noticed before 2000",
            {"new_fee": "15 000", "notice_on": "1999-12-31"},
            "notice_on",
            "01.01.2000",
        ),
        (
            "too early for the notice",
            {
                "new_fee": "15 000",
                "notice_on": TODAY.isoformat(),
                "effective_on": TODAY.isoformat(),
            },
            "effective_on",
            "срок уведомления по договору, дней: 30",
        ),
    ]
    for case, data, field, words in cases:
        r = await desk.submit(form, form, data)
        assert r.status_code == 422, (case, r.status_code, r.text[:500])
        message = field_error(r.text, field)
        assert words in message, (case, message)
        assert not re.search(r"[A-Za-z]{4,}", message), (case, message)
    assert await desk.api(f"/api/contracts/{contract_id}/amendments") == []

    # typed the Russian way: recorded once, listed on the page with its document
    r = await desk.submit(form, form, {"new_fee": "15 000,50 ₽", "reason": "индексация"})
    assert r.status_code == 303, r.text[:800]
    assert r.headers["location"] == f"/contracts/{contract_id}?flash=fee-change"
    page = await desk.page(r.headers["location"])
    assert "Изменение абонентской платы записано." in page
    [row] = amendment_rows(page)
    assert "изменение абонентской платы" in row and "15\u00a0000,50\u00a0₽" in row
    assert "12\u00a0000,00\u00a0₽" in row  # what it was
    [amendment] = await desk.api(f"/api/contracts/{contract_id}/amendments")
    assert amendment["new_fee"] == "15000.50"

    # extension: the end date must move later; then it does
    form = f"/contracts/{contract_id}/do/extension"
    r = await desk.submit(form, form, {"new_ends_on": (END - timedelta(days=10)).isoformat()})
    assert r.status_code == 422
    assert field_error(r.text, "new_ends_on") == (
        f"Новая дата окончания должна быть позже {END:%d.%m.%Y}."
    )
    new_end = END.replace(year=END.year + 1)
    r = await desk.submit(form, form, {"new_ends_on": new_end.isoformat()})
    assert r.status_code == 303, r.text[:800]
    assert (await desk.api(f"/api/contracts/{contract_id}"))["ends_on"] == new_end.isoformat()

    # suspension from today (a resume date before it is refused), then resumed
    form = f"/contracts/{contract_id}/do/suspend"
    r = await desk.submit(
        form,
        form,
        {"effective_on": TODAY.isoformat(), "resume_on": (TODAY - timedelta(days=1)).isoformat()},
    )
    assert r.status_code == 422
    assert "позже начала приостановки" in field_error(r.text, "resume_on")
    r = await desk.submit(
        form, form, {"effective_on": TODAY.isoformat(), "reason": "ремонт в помещении"}
    )
    assert r.status_code == 303, r.text[:800]
    page = await desk.page(f"/contracts/{contract_id}")
    assert 'data-testid="contract-status">приостановлен<' in page
    assert 'data-action="resume"' in page and 'data-action="suspend"' not in page
    form = f"/contracts/{contract_id}/do/resume"
    r = await desk.submit(form, form, {"effective_on": TODAY.isoformat()})
    assert r.status_code == 303, r.text[:800]
    assert (await desk.api(f"/api/contracts/{contract_id}"))["status"] == "active"

    # termination, then the contract takes nothing else
    form = f"/contracts/{contract_id}/do/terminate"
    last = (TODAY + timedelta(days=40)).isoformat()
    r = await desk.submit(form, form, {"effective_on": last, "reason": "клиент закрывается"})
    assert r.status_code == 303, r.text[:800]
    page = await desk.page(f"/contracts/{contract_id}")
    kinds = [row.split(" ")[1] for row in amendment_rows(page)]
    assert kinds == ["изменение", "продление", "приостановка", "расторжение"], kinds
    form = f"/contracts/{contract_id}/do/fee-change"
    r = await desk.submit(form, form, {"new_fee": "20 000"})
    assert r.status_code == 409
    assert "уже расторгается с" in r.text
    assert len(await desk.api(f"/api/contracts/{contract_id}/amendments")) == 4

    # the document: without the client's address and signatory, the page says what to fill
    doc = f"/contracts/amendments/{amendment['id']}/document.docx"
    r = await desk.web.get(doc)
    assert r.status_code == 422
    assert "Документ пока нельзя сформировать" in r.text
    assert "юридический адрес клиента" in r.text and "подписанта клиента" in r.text, r.text
    assert f'href="/clients/{client_id}/edit"' in r.text
    assert not re.search(r"required|print", r.text)
    r = await desk.contracts.patch(
        f"/api/clients/{client_id}",
        headers=desk.manager,
        json={
            "legal_address": "Москва, ул. Тверская, 1",
            "kpp": "770101001",
            "signatory": {"position": "Генеральный директор", "full_name": "Петров Иван Сергеевич"},
        },
    )
    assert r.status_code == 200, r.text
    r = await desk.web.get(doc)
    assert r.status_code == 200, r.text[:500]
    assert "wordprocessingml" in r.headers["content-type"]
    assert r.content[:2] == b"PK"


async def test_a_document_names_the_site_it_lacks_and_links_to_its_form(desk: Desk) -> None:
    client_id = await desk.client(
        legal_address="Москва, ул. Тверская, 1",
        kpp="770101001",
        signatory={"position": "Директор", "full_name": "Петров Иван Сергеевич"},
    )
    r = await desk.contracts.post(
        "/api/contracts",
        headers=desk.manager,
        json={
            "client_id": client_id,
            "kind": "subscription",
            "starts_on": START.isoformat(),
            "monthly_fee": "9000.00",
            "standard": True,
        },
    )
    contract_id = r.json()["id"]
    await log_in(desk.web, "manager1")
    r = await desk.web.get(f"/contracts/{contract_id}/documents/contract.pdf")
    assert r.status_code == 422
    assert "объект договора" in r.text
    assert f'href="/contracts/clients/{client_id}/sites/new"' in r.text

    # a site without access points: the page links to that site's form, which fixes it
    site = (
        await desk.contracts.post(
            f"/api/clients/{client_id}/sites",
            headers=desk.manager,
            json={"name": "Склад", "address": "Москва, Лесная, 5"},
        )
    ).json()
    r = await desk.contracts.post(
        "/api/contracts",
        headers=desk.manager,
        json={
            "client_id": client_id,
            "kind": "subscription",
            "starts_on": START.isoformat(),
            "monthly_fee": "9000.00",
            "standard": True,
            "site_id": site["id"],
        },
    )
    contract_id = r.json()["id"]
    r = await desk.web.get(f"/contracts/{contract_id}/documents/contract.docx")
    assert r.status_code == 422
    assert "число точек проезда на объекте договора" in r.text
    form = f"/contracts/clients/{client_id}/sites/{site['id']}"
    assert f'href="{form}"' in r.text
    r = await desk.submit(
        form, form, {"name": "Склад", "address": "Москва, Лесная, 5", "access_points": "99999"}
    )
    assert r.status_code == 422
    assert "10000" in field_error(r.text, "access_points")
    r = await desk.submit(
        form, form, {"name": "Склад", "address": "Москва, Лесная, 5", "access_points": "2"}
    )
    assert r.status_code == 303, r.text[:800]
    r = await desk.web.get(f"/contracts/{contract_id}/documents/contract.docx")
    assert r.status_code == 200, r.text[:800]
    assert r.content[:2] == b"PK"


async def test_the_head_decides_change_requests_with_a_reason(desk: Desk) -> None:
    client_id = await desk.client()
    contract_id = await desk.signed(client_id)
    await log_in(desk.web, "manager1")
    form = f"/contracts/{contract_id}/do/change-request"
    r = await desk.submit(
        form,
        form,
        {"kind": "fee_change", "summary": "Просят скидку", "received_on": TODAY.isoformat()},
    )
    assert r.status_code == 422
    assert field_error(r.text, "new_fee") == "Укажите новую плату."
    for summary, fee in (("Просят скидку", "10 000,00"), ("Просят ещё скидку", "9 000")):
        r = await desk.submit(
            form,
            form,
            {
                "kind": "fee_change",
                "summary": summary,
                "received_on": TODAY.isoformat(),
                "new_fee": fee,
            },
        )
        assert r.status_code == 303, r.text[:800]
    r = await desk.web.get("/contracts/change-requests")
    assert r.status_code == 403  # the queue is the head's

    await log_in(desk.web, "head")
    queue = await desk.page("/contracts/change-requests")
    assert "Просят скидку" in queue and "Просят ещё скидку" in queue
    requests = {
        r["summary"]: r for r in await desk.api("/api/change-requests", contract_id=contract_id)
    }
    first, second = requests["Просят скидку"], requests["Просят ещё скидку"]
    action = f"/contracts/change-requests/{second['id']}/decide"
    r = await desk.web.post(action, data={"csrf_token": csrf(queue), "decision": "reject"})
    assert r.status_code == 422
    assert field_error(r.text, "reason") == "Укажите причину отказа."
    r = await desk.web.post(
        action,
        data={"csrf_token": csrf(queue), "decision": "reject", "reason": "Цена уже минимальная"},
    )
    assert r.status_code == 303
    r = await desk.web.post(
        f"/contracts/change-requests/{first['id']}/decide",
        data={"csrf_token": csrf(queue), "decision": "approve", "reason": "Лояльный клиент"},
    )
    assert r.status_code == 303
    decided = {
        r["summary"]: r for r in await desk.api("/api/change-requests", contract_id=contract_id)
    }
    assert decided["Просят скидку"]["state"] == "approved"
    assert decided["Просят скидку"]["amendment_id"] is not None
    assert decided["Просят ещё скидку"]["state"] == "rejected"
    page = await desk.page(f"/contracts/{contract_id}")
    assert "согласован</span>: Петров Игорь" in page and "Цена уже минимальная" in page
    assert len(amendment_rows(page)) == 1
    # deciding again is refused in Russian
    r = await desk.web.post(action, data={"csrf_token": csrf(queue), "decision": "approve"})
    assert r.status_code == 409
    assert "По запросу уже принято решение." in r.text


async def test_re_signing_and_a_pilot_ending_and_converting(desk: Desk) -> None:
    client_id = await desk.client()
    contract_id = await desk.signed(client_id)
    pilot_id = await desk.signed(
        client_id, kind="pilot", fee="0.00", ends_on=START + timedelta(days=60)
    )
    await log_in(desk.web, "manager1")
    form = f"/contracts/{contract_id}/do/resign"
    r = await desk.submit(form, form, {"starts_on": "", "monthly_fee": "14 000"})
    assert r.status_code == 422
    assert field_error(r.text, "starts_on") == "Обязательное поле."
    r = await desk.submit(
        form, form, {"starts_on": (END + timedelta(days=1)).isoformat(), "monthly_fee": "14 000"}
    )
    assert r.status_code == 303, r.text[:800]
    new_id = r.headers["location"].split("/")[2].split("?")[0]
    new = await desk.api(f"/api/contracts/{new_id}")
    assert new["replaces_id"] == contract_id and new["monthly_fee"] == "14000.00"
    page = await desk.page(r.headers["location"])
    assert "Заменяет" in page and 'data-testid="contract-status">черновик<' in page

    page = await desk.page(f"/contracts/{pilot_id}")
    assert 'data-action="pilot-end"' in page and 'data-action="fee-change"' not in page
    form = f"/contracts/{pilot_id}/do/pilot-end"
    r = await desk.submit(form, form, {"ended_on": "1999-01-01", "outcome": "success"})
    assert r.status_code == 422
    assert "01.01.2000" in field_error(r.text, "ended_on")
    r = await desk.submit(
        form, form, {"ended_on": TODAY.isoformat(), "outcome": "success", "note": "Клиент доволен"}
    )
    assert r.status_code == 303, r.text[:800]
    page = await desk.page(f"/contracts/{pilot_id}")
    assert "успешно: готовится платный договор" in page
    form = f"/contracts/{pilot_id}/do/pilot-convert"
    r = await desk.submit(
        form, form, {"kind": "subscription", "monthly_fee": "0", "starts_on": TODAY.isoformat()}
    )
    assert r.status_code == 422
    assert "больше нуля" in field_error(r.text, "monthly_fee")
    r = await desk.submit(
        form,
        form,
        {
            "kind": "subscription",
            "monthly_fee": "11 000,00",
            "starts_on": TODAY.isoformat(),
            "signed_on": TODAY.isoformat(),
        },
    )
    assert r.status_code == 303, r.text[:800]
    paid = await desk.api(f"/api/contracts/{r.headers['location'].split('/')[2][:36]}")
    assert paid["replaces_id"] == pilot_id and paid["kind"] == "subscription"
    assert (await desk.api(f"/api/contracts/{pilot_id}"))["pilot_outcome"] == "converted"


async def test_deals_feedback_and_the_contact_log(desk: Desk) -> None:
    client_id = await desk.client()
    await log_in(desk.web, "manager1")
    deals = await desk.page("/contracts/deals")
    assert ">Смирнов Алексей (Менеджер)<" in deals  # the hand-over picker: people by name
    r = await desk.submit(
        "/contracts/deals",
        "/contracts/deals",
        {
            "client_id": client_id,
            "title": "Второй терминал",
            "amount": "150 000,00",
            "owner": "billing",
        },
    )
    assert r.status_code == 422
    assert field_error(r.text, "owner") == "Выберите менеджера из списка."
    r = await desk.submit(
        "/contracts/deals",
        "/contracts/deals",
        {"client_id": client_id, "title": "Второй терминал", "amount": "99999999999999"},
    )
    assert r.status_code == 422
    assert "Слишком большая" in field_error(r.text, "amount")
    assert await desk.api("/api/deals", client_id=client_id) == []
    r = await desk.submit(
        "/contracts/deals",
        "/contracts/deals",
        {"client_id": client_id, "title": "Второй терминал", "amount": "150 000,00"},
    )
    assert r.status_code == 303, r.text[:800]
    [deal] = await desk.api("/api/deals", client_id=client_id)
    assert deal["amount"] == "150000.00" and deal["owner"] == "manager1"
    page = await desk.page("/contracts/deals")
    r = await desk.web.post(
        f"/contracts/deals/{deal['id']}/stage", data={"csrf_token": csrf(page), "stage": "proposal"}
    )
    assert r.status_code == 303
    r = await desk.web.post(
        f"/contracts/deals/{deal['id']}/hand-over", data={"csrf_token": csrf(page), "to": "nobody"}
    )
    assert r.status_code == 422
    assert field_error(r.text, "to") == "Выберите менеджера из списка."
    r = await desk.web.post(
        f"/contracts/deals/{deal['id']}/hand-over",
        data={"csrf_token": csrf(page), "to": "manager2"},
    )
    assert r.status_code == 303
    [deal] = await desk.api("/api/deals", client_id=client_id)
    assert (deal["stage"], deal["owner"], deal["handed_to_sales"]) == ("proposal", "manager2", True)
    card = await desk.page(f"/clients/{client_id}")
    assert f'href="/contracts/deals?client_id={client_id}"' in card
    page = await desk.page(f"/contracts/deals?client_id={client_id}")  # from the card
    assert f'<option value="{client_id}" selected>' in page  # a new deal: for this client
    row = re.search(r'<tr data-deal="Второй терминал">(.*?)</tr>', page, re.S)
    assert row is not None and "предложение" in row.group(1)
    assert "Смирнов Алексей" in row.group(1) and "150\u00a0000,00\u00a0₽" in row.group(1)

    # feedback
    form = f"/contracts/feedback?client_id={client_id}"
    r = await desk.submit(
        form, "/contracts/feedback", {"client_id": client_id, "kind": "wish", "text": ""}
    )
    assert r.status_code == 422
    assert field_error(r.text, "text") == "Обязательное поле."
    r = await desk.submit(
        form,
        "/contracts/feedback",
        {
            "client_id": client_id,
            "kind": "wish",
            "text": "Хотят отчёт по терминалам",
            "recorded_on": "2099-01-01",
        },
    )
    assert r.status_code == 422
    assert "не позже" in field_error(r.text, "recorded_on")
    r = await desk.submit(
        form,
        "/contracts/feedback",
        {
            "client_id": client_id,
            "kind": "wish",
            "text": "Хотят отчёт по терминалам",
            "recorded_on": TODAY.isoformat(),
        },
    )
    assert r.status_code == 303, r.text[:800]
    page = await desk.page(r.headers["location"])
    assert "Хотят отчёт по терминалам" in page and ">пожелание<" in page

    # the contact log on the card
    form = f"/clients/{client_id}/interactions/new"
    r = await desk.submit(form, form, {"channel": "call", "on": TODAY.isoformat(), "summary": ""})
    assert r.status_code == 422
    assert field_error(r.text, "summary") == "Обязательное поле."
    r = await desk.submit(
        form, form, {"channel": "call", "on": "1999-05-05", "summary": "Обсудили продление"}
    )
    assert r.status_code == 422
    assert "01.01.2000" in field_error(r.text, "on")
    r = await desk.submit(
        form,
        form,
        {
            "channel": "call",
            "on": TODAY.isoformat(),
            "summary": "Обсудили продление",
            "contact_name": "Петров И. С.",
        },
    )
    assert r.status_code == 303, r.text[:800]
    card = await desk.page(f"/clients/{client_id}")
    log = card[card.index('id="interactions"') :]
    assert f"{TODAY:%d.%m.%Y} · звонок · Петров И. С.: Обсудили продление" in log
    assert "записал(а) Иванова Мария" in log
    # the lawyer sees the log but records no contact (contracts: the manager and the head)
    await log_in(desk.web, "lawyer")
    card = await desk.page(f"/clients/{client_id}")
    assert "Обсудили продление" in card and f"/clients/{client_id}/interactions/new" not in card
    r = await desk.web.get(form)
    assert r.status_code == 403


async def test_each_new_page_is_open_only_to_its_roles(desk: Desk) -> None:
    client_id = await desk.client()
    contract_id = await desk.signed(client_id)
    pages = {
        # page: the roles that open it (admin opens every page)
        f"/contracts/{contract_id}": {"manager1", "head", "lawyer"},
        f"/contracts/{contract_id}/do/fee-change": {"manager1", "head"},
        f"/contracts/{contract_id}/do/resign": {"manager1", "head"},
        "/contracts/change-requests": {"head"},
        "/contracts/deals": {"manager1", "head"},
        "/contracts/feedback": {"manager1", "head", "lawyer"},
        f"/clients/{client_id}/interactions/new": {"manager1", "head"},
    }
    forms = {  # what a role outside the page's roles may not send either
        f"/contracts/{contract_id}/do/fee-change": {"new_fee": "15000"},
        "/contracts/deals": {"client_id": client_id, "title": "Терминал"},
        f"/clients/{client_id}/interactions/new": {"channel": "call", "on": TODAY.isoformat(),
                                                   "summary": "звонок"},
    }
    for user in ("manager1", "head", "lawyer", "billing", "dispatcher", "manager2"):
        await log_in(desk.web, user)
        home = await desk.page("/")
        for path, roles in pages.items():
            r = await desk.web.get(path)
            # manager2 is a manager, but not this client's: contracts refuses their client
            allowed = user in roles or (user == "manager2" and "manager1" in roles
                                        and contract_id not in path and client_id not in path)
            assert (r.status_code == 200) == allowed, (user, path, r.status_code)
            if not allowed:
                assert r.status_code == 403 and "доступ" in r.text, (user, path)
        for path, data in forms.items():
            if user in pages[path]:
                continue
            r = await desk.web.post(path, data={"csrf_token": csrf(home), **data})
            assert r.status_code == 403, (user, path, r.status_code)
    assert await desk.api(f"/api/contracts/{contract_id}/amendments") == []
    assert await desk.api("/api/deals", client_id=client_id) == []
    assert await desk.api(f"/api/clients/{client_id}/interactions") == []
