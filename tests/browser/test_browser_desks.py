"""Every desk opens for its people with every panel filled (no service message in its
place); documents and spreadsheets come through the web's session. A failing desk leaves
its screenshot in test-artifacts/ (one tab per desk)."""

from __future__ import annotations

import io
import re
import uuid
from datetime import date

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import FilePayload, expect

from clientops_shared.jobs import business_today
from clientops_shared.testing import System, eventually

from .conftest import Browsing, api_token
from .helpers import DOCUMENT_MS, inn10

pytestmark = pytest.mark.browser

DESKS = {
    "manager1": [("/", "Мой день"), ("/contracts", "Договорный отдел"),
                 ("/contracts/clients/new", "Новый клиент"),
                 ("/contracts/expiring", "Истекающие договоры")],
    "head": [("/", "Мой день"), ("/head", "Панель руководителя"),
             ("/contracts/approvals", "Согласование"), ("/contracts", "Договорный отдел"),
             ("/billing", "Биллинг"), ("/billing/payables", "Счета поставщиков"),
             ("/admin/staff", "E-mail сотрудников")],
    "billing": [("/", "Мой день"), ("/billing", "Биллинг"),
                ("/billing/runs/new", "Выставление счетов"),
                ("/billing/payments/new", "Оплаты и банковские выписки"),
                ("/billing/rent", "Аренда площадок"),
                ("/billing/rent/agreements/new", "Новый договор аренды"),
                ("/billing/rent/registry", "Реестр выплат аренды безналом"),
                ("/billing/rent/routes", "Маршруты курьеров"),
                ("/billing/rent/open-items", "Открытые позиции"),
                ("/billing/payables", "Счета поставщиков"),
                ("/billing/payables/new", "Новый счёт поставщика")],
    "accountant": [("/", "Мой день"), ("/billing", "Биллинг"),
                   ("/billing/rent/registry", "Реестр выплат аренды безналом"),
                   ("/billing/payables", "Счета поставщиков")],
    "admin": [("/admin/users", "Пользователи и роли"), ("/head", "Панель руководителя"),
              ("/admin/staff", "E-mail сотрудников")],
    "tech1": [("/", "Мой день")],
}


@pytest.mark.parametrize("username", sorted(DESKS))
def test_each_desk_opens_with_every_panel_filled(browsing: Browsing, username: str) -> None:
    first = browsing.logged_in(username)
    for n, (path, heading) in enumerate(DESKS[username]):
        page = first if n == 0 else browsing.tab(first)
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response)
        expect(page.locator("main h1")).to_contain_text(heading)
        expect(page.locator(".panel-error")).to_have_count(0)


BACK_OFFICE = ("/billing/rent", "/billing/rent/registry", "/billing/rent/routes",
               "/billing/rent/open-items", "/billing/payables", "/billing/payables/new",
               "/admin/staff")


def test_a_manager_cannot_open_the_back_office_pages(browsing: Browsing) -> None:
    page = browsing.logged_in("manager1")
    for path in BACK_OFFICE:
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.locator("main h1")).to_contain_text("403")


def test_documents_scans_and_the_expiring_spreadsheet(browsing: Browsing,
                                                       system: System) -> None:
    auth = api_token(system, "manager1")
    contracts = system.urls["contracts"]
    name = f"ООО «Документы {uuid.uuid4().hex[:6]}»"
    client = httpx.post(f"{contracts}/api/clients", headers=auth, json={
        "name": name, "inn": inn10(), "kpp": "770101001", "email": "docs@example.ru",
        "manager": "manager1"})
    assert client.status_code == 201, client.text
    client_id = client.json()["id"]
    today = business_today()
    site = httpx.post(f"{contracts}/api/clients/{client_id}/sites", headers=auth, json={
        "name": "Парковка", "address": "Москва, ул. Тверская, 1", "access_points": 2})
    assert site.status_code == 201, site.text
    contract = httpx.post(f"{contracts}/api/contracts", headers=auth, json={
        "client_id": client_id, "kind": "subscription", "site_id": site.json()["id"],
        "starts_on": today.replace(day=1).isoformat(),
        "ends_on": date(today.year + (today.month == 12), today.month % 12 + 1, 1).isoformat(),
        "monthly_fee": "4200.00", "auto_renew": False, "standard": True}).json()
    assert httpx.post(f"{contracts}/api/contracts/{contract['id']}/sign", headers=auth,
                      json={"signed_on": today.isoformat()}).status_code == 200

    page = browsing.logged_in("manager1")
    # without the client's legal address and signatory there is nothing to print: the page
    # says what is missing
    refused = page.goto(f"/contracts/{contract['id']}/documents/contract.docx")
    assert refused is not None and refused.status == 422
    expect(page.get_by_test_id("document-missing")).to_contain_text("юридический адрес клиента")
    fixed = httpx.patch(f"{contracts}/api/clients/{client_id}", headers=auth, json={
        "legal_address": "Москва, ул. Тверская, 1",
        "signatory": {"position": "Генеральный директор", "full_name": "Иванов Иван"}})
    assert fixed.status_code == 200, fixed.text

    page.goto(f"/clients/{client_id}")
    row = page.locator(f"#contracts tr[data-contract='{contract['number']}']")
    with page.expect_download(timeout=DOCUMENT_MS) as download:
        row.locator("a", has_text="договор DOCX").click(timeout=DOCUMENT_MS)
    assert download.value.suggested_filename.endswith(".docx")
    pdf = page.request.get(f"/contracts/{contract['id']}/documents/contract.pdf",
                           timeout=DOCUMENT_MS)
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF-")

    signed_scan: FilePayload = {"name": "подписанный.pdf", "mimeType": "application/pdf",
                                "buffer": b"%PDF-1.4\n% signed scan\n%%EOF\n"}
    row.locator("input[name=scan]").set_input_files(files=[signed_scan])
    row.locator("button", has_text="Загрузить скан").click()
    expect(page.get_by_test_id("flash")).to_have_text("Скан загружен.")
    scan = page.locator(f"#contracts tr[data-contract='{contract['number']}']"
                        ).get_by_test_id("scan")
    expect(scan).to_contain_text("подписанный.pdf")
    stored = page.request.get(scan.get_attribute("href") or "")
    assert stored.body() == b"%PDF-1.4\n% signed scan\n%%EOF\n"

    # a JPEG that is not one is refused with the API's reason
    row = page.locator(f"#contracts tr[data-contract='{contract['number']}']")
    fake: FilePayload = {"name": "photo.jpg", "mimeType": "image/jpeg",
                         "buffer": b"not an image"}
    row.locator("input[name=scan]").set_input_files(files=[fake])
    row.locator("button", has_text="Загрузить скан").click()
    expect(page.get_by_test_id("action-failed")).to_contain_text("PDF")

    page.goto("/contracts/expiring?within_days=60")
    eventually(lambda: page.reload() and page.locator(f"#expiring tr:has-text('{name}')"
                                                       ).count() == 1)
    xlsx = page.request.get("/contracts/expiring.xlsx?within_days=60", timeout=DOCUMENT_MS)
    assert xlsx.status == 200
    assert "spreadsheetml" in xlsx.headers["content-type"]
    assert xlsx.body()[:2] == b"PK"  # a zip: the XLSX container
    assert re.search(r"\.xlsx", xlsx.headers.get("content-disposition", ""))
    # staff are named in the spreadsheet as on the pages, never by login
    sheet = load_workbook(io.BytesIO(xlsx.body())).active
    assert sheet is not None
    cells = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert "manager1" not in cells and "Иванова Мария" in cells, cells
