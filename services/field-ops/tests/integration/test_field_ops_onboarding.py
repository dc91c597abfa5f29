"""Onboarding (000 §6, 7): a signed cloud subscription opens a tenant request; the tenant is
made through the real httpx adapter against a local stand-in of the cloud-admin panel; the
password goes out once in the event and is kept nowhere; training booked, moved, completed,
noted."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aio_pika
import pytest

from clientops_shared import messaging
from clientops_shared.jobs import MOSCOW
from clientops_shared.testing import eventually_async, running_app
from field_ops.adapters.cloud_admin import CloudAdminError, HttpCloudAdmin

pytestmark = pytest.mark.integration


class Panel:
    """A stand-in of the cloud-admin REST API on 127.0.0.1."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.tenants: dict[str, dict[str, Any]] = {}
        self.passwords: list[str] = []
        panel = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                panel.requests.append((self.path, self.headers["Authorization"], body))
                if self.headers["Authorization"] != "Bearer panel-token":
                    return self._answer(401, {"error": "unauthorized"})
                if self.path == "/api/tenants":
                    if body["subdomain"] in panel.tenants:
                        return self._answer(409, {"error": "taken"})
                    password = uuid.uuid4().hex
                    panel.passwords.append(password)
                    tenant = {"id": f"t{len(panel.tenants) + 1}",
                              "url": f"https://{body['subdomain']}.cloud.test",
                              "admin_login": "admin", "admin_password": password}
                    panel.tenants[body["subdomain"]] = tenant
                    return self._answer(201, tenant)
                if self.path.endswith("/accounts"):
                    return self._answer(201, {"login": body["login"]})
                return self._answer(404, {})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def panel() -> Iterator[Panel]:
    stand_in = Panel()
    thread = threading.Thread(target=stand_in.server.serve_forever, daemon=True)
    thread.start()
    yield stand_in
    stand_in.server.shutdown()


async def test_http_adapter_against_the_stand_in(panel: Panel) -> None:
    admin = HttpCloudAdmin(panel.url, "panel-token")
    tenant = await admin.create_tenant(subdomain="romashka", client_name="ООО Ромашка")
    assert tenant.url == "https://romashka.cloud.test" and tenant.login == "admin"
    assert tenant.password == panel.passwords[0] and tenant.support_account == "support"
    assert tenant.password not in repr(tenant)
    with pytest.raises(CloudAdminError, match="занят"):
        await admin.create_tenant(subdomain="romashka", client_name="ООО Ромашка")
    with pytest.raises(CloudAdminError):
        await HttpCloudAdmin(panel.url, "wrong").create_tenant(subdomain="x1", client_name="x")
    with pytest.raises(CloudAdminError):
        await HttpCloudAdmin("http://127.0.0.1:9", "t").create_tenant(subdomain="x2",
                                                                       client_name="x")
    await admin.aclose()


async def test_cloud_subscription_to_tenant_password_once_and_kept_nowhere(
        field, panel: Panel, caplog: pytest.LogCaptureFixture) -> None:
    async with running_app(field.servers, "field_ops", jobs_enabled=False,
                           cloud_admin_url=panel.url, cloud_admin_token="panel-token",
                           cloud_domain="cloud.test") as (app, http):
        app.state.clock = lambda: field.now
        connection = await aio_pika.connect(field.servers.amqp_url)
        channel = await connection.channel()
        probe = await channel.declare_queue(f"probe-cloud-{uuid.uuid4().hex[:8]}",
                                            exclusive=True)
        await probe.bind(messaging.EXCHANGE, routing_key="field_ops.cloud_tenant.#")
        site = await field.site(contract=False)
        client_id, site_id = uuid.UUID(site["client_id"]), uuid.UUID(site["site_id"])
        await field.publish(field.signed(client_id, site["name"], uuid.uuid4(),
                                         kind="subscription", site_id=site_id))
        await field.wait_sql("SELECT count(*) FROM cloud_tenant WHERE client_id = :c",
                             c=client_id)
        [tenant] = (await http.get("/api/cloud-tenants", params={"client_id": str(client_id)},
                                   headers=field.dispatcher)).json()
        assert tenant["state"] == "requested" and tenant["state_label"] == "Согласовать адрес"
        r = await http.post(f"/api/cloud-tenants/{tenant['id']}/provision",
                            headers=field.dispatcher)
        assert r.status_code == 409 and r.json()["current_state"] == "requested"
        r = await http.post(f"/api/cloud-tenants/{tenant['id']}/url",
                            json={"subdomain": "Bad domain!"}, headers=field.dispatcher)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "subdomain"
        sub = f"c{client_id.hex[:10]}"
        r = await http.post(f"/api/cloud-tenants/{tenant['id']}/url", json={"subdomain": sub},
                            headers=field.dispatcher)
        assert r.json()["url"] == f"https://{sub}.cloud.test"
        r = await http.post(f"/api/cloud-tenants/{tenant['id']}/provision",
                            headers=field.dispatcher)
        assert r.status_code == 200, r.text
        password = panel.passwords[-1]
        assert r.json()["state"] == "provisioned" and password not in r.text
        assert [p for p, _, _ in panel.requests[-2:]] == [
            "/api/tenants", f"/api/tenants/{panel.tenants[sub]['id']}/accounts"]
        again = await http.post(f"/api/cloud-tenants/{tenant['id']}/provision",
                                headers=field.dispatcher)
        assert again.status_code == 409 and len(panel.tenants) == 1

        async def delivered() -> Any:
            return await probe.get(fail=False, timeout=1)

        message = await eventually_async(delivered, timeout=30)
        event = json.loads(message.body)
        assert event["payload"]["password"] == password and event["payload"]["login"] == "admin"
        await field.wait_sql("SELECT count(*) FROM outbox_message WHERE routing_key = "
                             "'field_ops.cloud_tenant.provisioned' AND sent_at IS NOT NULL "
                             "AND body->'payload'->>'client_id' = :c", c=str(client_id))
        await field.clock(datetime(2026, 11, 27, 10, 7, tzinfo=MOSCOW))
        for table in ("outbox_message", "audit_log", "cloud_tenant", "idempotency_key"):
            leaked = await field.scalar(
                f"SELECT count(*) FROM {table} t WHERE row_to_json(t)::text LIKE :p",
                p=f"%{password}%")
            assert leaked == 0, table
        assert password not in caplog.text
        listed = await http.get("/api/cloud-tenants", params={"client_id": str(client_id)},
                                headers=field.dispatcher)
        assert password not in listed.text and listed.json()[0]["login"] == "admin"
        await connection.close()


async def test_training_booked_moved_completed_with_feedback_and_questionnaire(field) -> None:
    site = await field.site()
    start = field.now + timedelta(days=3)
    r = await field.post("/api/trainings", {"client_id": site["client_id"],
                                            "starts_at": (field.now - timedelta(hours=1))
                                            .isoformat()})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "starts_at"
    booked = (await field.post("/api/trainings", {
        "client_id": site["client_id"], "starts_at": start.isoformat(), "topic": "Приложение",
        "meeting_url": "https://meet.example/abc"}, expect=201)).json()
    assert booked["state_label"] == "Назначено"
    moved = (await field.post(f"/api/trainings/{booked['id']}/reschedule",
                              {"starts_at": (start + timedelta(days=1)).isoformat()},
                              expect=200)).json()
    assert moved["reschedule_count"] == 1
    scheduled = await field.events("field_ops.training.scheduled", session_id=booked["id"])
    assert len(scheduled) == 2
    await field.post(f"/api/trainings/{booked['id']}/complete", {}, expect=409)  # not yet
    r = await field.http.patch(f"/api/trainings/{booked['id']}", json={"feedback": "рано"},
                               headers=field.dispatcher)
    assert r.status_code == 409
    field.now = start + timedelta(days=1, hours=2)
    await field.post(f"/api/trainings/{booked['id']}/complete",
                     {"recording_url": "https://video.example/rec1"}, expect=200)
    assert await field.events("field_ops.training.completed", session_id=booked["id"])
    r = await field.http.patch(f"/api/trainings/{booked['id']}", headers=field.dispatcher, json={
        "feedback": "Всё понятно", "questionnaire": {
            "server_format": "cloud", "equipment": "2 шлагбаума, контроллер",
            "integration": True, "access_points": 2}})
    assert r.status_code == 200, r.text
    [row] = (await field.get("/api/trainings", params={"client_id": site["client_id"]})).json()
    assert row["state"] == "done" and row["recording_url"] == "https://video.example/rec1"
    assert row["questionnaire"]["access_points"] == 2 and row["feedback"] == "Всё понятно"
