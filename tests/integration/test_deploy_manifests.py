"""The deployment files, checked without a container engine or a cluster: docker-compose.yml
against the Compose specification's schema, the Kubernetes manifest against the Kubernetes
1.37 schemas (strict) and the operators' resources against what the runbook relies on, no
secret value committed, alert rules and the dashboard only on metrics the code exports, each
alert with its runbook section; and the migration init container safe for replicas starting
together (real PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import kubernetes_validate
import promql_parser
import pytest
import yaml

from clientops_shared.devtools import create_databases, drop_databases
from clientops_shared.settings import database_url
from clientops_shared.testing import Servers

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MANIFEST = ROOT / "deploy/kubernetes/clientops.yaml"
CONSUMERS = {"contracts", "billing", "field-ops", "logistics", "notifications"}


def manifest() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


def test_compose_file_is_valid_compose() -> None:
    checked = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema",
                              "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_compose_takes_every_secret_from_the_environment_and_brings_the_tools() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    secretish = re.compile(r"PASSWORD|SECRET|_PASS$|SECRET_KEY|PG_DSN|AMQP_URL")
    for name, service in compose["services"].items():
        env = service.get("environment") or {}
        for key, value in (env.items() if isinstance(env, dict) else []):
            if secretish.search(key):
                assert "${" in str(value) and ":?" in str(value), (name, key, value)
    amqp = compose["x-secrets"]["CLIENTOPS_AMQP_URL"]
    assert not amqp.startswith("amqp://guest:"), "RabbitMQ lets guest in from localhost only"
    user = compose["services"]["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_USER"]
    assert amqp.startswith(f"amqp://{user}:${{RABBITMQ_PASSWORD")
    for tool in ("prometheus", "grafana", "mailpit", "minio", "jaeger"):
        assert tool in compose["services"], tool
    for name, service in compose["services"].items():
        image = service.get("image", "")
        assert image and not image.endswith(":latest") and ":" in image, (name, image)
    env = compose["x-service"]["environment"]
    assert env["NOTIFICATIONS_SMTP_HOST"] == "mailpit"
    assert env["CONTRACTS_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert "/.env" in (ROOT / ".gitignore").read_text().split()  # the generated secrets


def test_the_kubernetes_manifest_is_what_render_py_renders() -> None:
    rendered = subprocess.run([sys.executable, str(ROOT / "deploy/kubernetes/render.py")],
                              capture_output=True, text=True, timeout=60, check=True)
    assert rendered.stdout == MANIFEST.read_text(), "run deploy/kubernetes/render.py"


def test_the_kubernetes_manifest_validates_against_the_kubernetes_schemas() -> None:
    crds = []
    for doc in manifest():
        if doc["apiVersion"].startswith(("postgresql.cnpg.io/", "rabbitmq.com/")):
            crds.append(doc)
            continue
        kubernetes_validate.validate(doc, "1.37.0", strict=True)  # raises on any error
    kinds = {(d["apiVersion"], d["kind"]) for d in crds}
    assert kinds == {("postgresql.cnpg.io/v1", "Cluster"),
                     ("postgresql.cnpg.io/v1", "ScheduledBackup"),
                     ("rabbitmq.com/v1beta1", "RabbitmqCluster")}


def test_deployments_are_production_safe() -> None:
    docs = manifest()
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    deployments = by_kind["Deployment"]
    assert set(deployments) == CONSUMERS | {"web"}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        (app,) = pod["containers"]
        (init,) = pod["initContainers"]
        assert init["command"][-3:] == ["migrate", "--service", name.replace("-", "_")]
        for container in (app, init):
            assert re.fullmatch(r".+:\d+\.\d+\.\d+", container["image"]), container["image"]
            security = container["securityContext"]
            assert security["runAsNonRoot"] and security["readOnlyRootFilesystem"]
            assert security["allowPrivilegeEscalation"] is False
            env = {e["name"]: e for e in container["env"]}
            assert "secretKeyRef" in env["RABBITMQ_PASSWORD"]["valueFrom"]
            assert "secretKeyRef" in env["DB_PASSWORD"]["valueFrom"]
            assert "$(DB_PASSWORD)" in env["DATABASE_URL"]["value"]
        assert app["startupProbe"]["httpGet"]["path"] == "/health/ready"
        assert name in by_kind["PodDisruptionBudget"]
        assert by_kind["Cluster"][f"{name}-db"]["spec"]["instances"] >= 2
        assert f"{name}-db-daily" in by_kind["ScheduledBackup"]
    assert set(by_kind["HorizontalPodAutoscaler"]) == CONSUMERS
    rabbit = by_kind["RabbitmqCluster"]["clientops-rabbitmq"]["spec"]
    assert rabbit["replicas"] == 3 and "default_queue_type = quorum" in (
        rabbit["rabbitmq"]["additionalConfig"])
    # nothing secret committed: no Secret objects at all, only references to them
    assert "Secret" not in by_kind
    config = by_kind["ConfigMap"]["clientops-config"]["data"]
    assert not any(re.search(r"PASSWORD|SECRET", key) for key in config)
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    assert "USER 10001" in dockerfile


# Every third-party image the deployment files name, pinned to a full release tag. No Docker
# engine or registry is reachable here, so each tag was checked against public repositories
# that pull that exact tag (compose files, Kubernetes manifests, testcontainers, some with the
# tag's sha256 digest) and against the project's release history (release notes / GitHub
# release of that version). Changing a tag means checking the new one the same way (or with
# `docker manifest inspect <image>` where a registry is reachable) and updating this list.
VERIFIED_IMAGES = {
    "python:3.11.11-slim-bookworm",                # Docker official image, Python 3.11.11
    "postgres:15.10",                              # Docker official image, PostgreSQL 15.10
    "ghcr.io/cloudnative-pg/postgresql:15.10",     # CloudNativePG operand image, PG 15.10
    "rabbitmq:3.13.7-management",                  # Docker official image, RabbitMQ 3.13.7
    "minio/minio:RELEASE.2025-04-22T22-12-26Z",    # MinIO server release of 2025-04-22
    "minio/mc:RELEASE.2025-04-16T18-13-26Z",       # MinIO client release of 2025-04-16
    "axllent/mailpit:v1.21.8",                     # Mailpit v1.21.8
    "jaegertracing/all-in-one:1.57.0",             # Jaeger v1.57.0
    "prom/prometheus:v2.55.1",                     # Prometheus v2.55.1
    "grafana/grafana:11.3.1",                      # Grafana v11.3.1
}


def _images() -> dict[str, str]:
    """image -> where it is named, over compose, the Kubernetes manifest and the Dockerfile."""
    found: dict[str, str] = {}
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        found.setdefault(service["image"], f"docker-compose.yml {name}")

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("image", "imageName") and isinstance(value, str):
                    found.setdefault(value, where)
                else:
                    walk(value, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)
    for doc in manifest():
        walk(doc, f"clientops.yaml {doc['kind']} {doc['metadata']['name']}")
    for image in re.findall(r"^FROM\s+(\S+)", (ROOT / "deploy/Dockerfile").read_text(), re.M):
        found.setdefault(image, "deploy/Dockerfile")
    return found


def test_every_image_is_pinned_to_a_verified_release_and_ours_to_the_project_version() -> None:
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(),
                        re.M)
    assert version is not None
    ours = {f"clientops:{version.group(1)}",
            f"registry.clientops.internal/clientops:{version.group(1)}"}
    images = _images()
    for image, where in images.items():
        assert image in VERIFIED_IMAGES | ours, f"{where}: {image} is not a verified tag"
        tag = image.rsplit(":", 1)[1]
        assert re.fullmatch(r"v?\d+\.\d+(\.\d+)?(-[a-z-]+)?|RELEASE\.[0-9TZ-]+", tag), image
    assert set(images) == VERIFIED_IMAGES | ours  # and no stale entry in the list


def _exported_metrics() -> dict[str, set[str]]:
    """Every series name the code exports, with the labels it carries."""
    series: dict[str, set[str]] = {}
    for path in [*ROOT.glob("shared/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]:
        for kind, name, labels in re.findall(
                r'\b(Counter|Gauge|Histogram)\(\s*"(clientops_\w+)",[^\[]*\[([^\]]*)\]',
                path.read_text()):
            names = set(re.findall(r'"(\w+)"', labels))
            if kind == "Counter":
                series[name.removesuffix("_total") + "_total"] = names
            elif kind == "Histogram":
                series |= {f"{name}_bucket": names | {"le"}, f"{name}_count": names,
                           f"{name}_sum": names}
            else:
                series[name] = names
    return series


# what Prometheus adds to every series it scrapes (the scrape job, the target), and ``up``
TARGET_LABELS = {"job", "instance", "service"}


def _selectors(expr: Any) -> list[tuple[str, set[str]]]:
    """(metric name, labels the expression relies on) for every selector in a parsed PromQL
    expression: its matchers and the by/on/without labels of what it is under."""
    found: list[tuple[str, set[str]]] = []

    def walk(node: Any, grouping: frozenset[str]) -> None:
        kind = type(node).__name__
        if kind == "VectorSelector":
            matched = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", str(node.matchers)))
            found.append((node.name, matched | grouping))
        elif kind == "MatrixSelector":
            walk(node.vector_selector, grouping)
        elif kind == "AggregateExpr":
            labels = frozenset(node.modifier.labels) if node.modifier else frozenset()
            walk(node.expr, grouping | labels)
        elif kind == "BinaryExpr":
            labels = frozenset((getattr(node.modifier, "matching", None) and
                               node.modifier.matching.labels) or ())
            walk(node.lhs, grouping | labels)
            walk(node.rhs, grouping | labels)
        elif kind == "Call":
            for arg in node.args:
                walk(arg, grouping)
        elif kind in ("ParenExpr", "UnaryExpr", "SubqueryExpr"):
            walk(node.expr, grouping)

    walk(expr, frozenset())
    return found


def _check_expression(where: str, text: str, exported: dict[str, set[str]]) -> set[str]:
    """The expression parses as PromQL and reads only exported series by their own labels."""
    try:
        parsed = promql_parser.parse(text)
    except Exception as exc:  # the parser's own error type
        raise AssertionError(f"{where}: not PromQL: {exc}\n{text}") from None
    used = _selectors(parsed)
    assert used, where
    for name, labels in used:
        known = {"up": TARGET_LABELS}.get(name, exported.get(name))
        assert known is not None, f"{where}: {name} is not exported"
        # never "job" on our series: that is the scrape job's name (clientops), not a
        # periodic job's (job_name)
        assert labels <= known | TARGET_LABELS - {"job"}, f"{where}: {name} has no {labels - known}"
    return {name for name, _ in used}


def test_alerts_and_dashboard_are_promql_on_exported_metrics_and_each_alert_has_a_runbook(
) -> None:
    exported = _exported_metrics()
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    alerts = {r["alert"]: r for group in rules["groups"] for r in group["rules"]}
    runbook = (ROOT / "docs/runbook.md").read_text()
    headings = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
                for h in re.findall(r"^#+ (.+)$", runbook, re.M)}
    # what an on-call needs besides the alerts (issue 12 §5)
    for section in ("finding-the-trace-of-anything", "dead-letters-replay-or-drop-safely",
                    "rerun-a-months-invoice-run", "a-service-is-down", "the-broker-is-down",
                    "a-database-is-down", "restore-a-services-database-from-a-backup"):
        assert section in headings, section
    reads = {}
    for name, alert in alerts.items():
        section = runbook.split(f"### {name}\n", 1)[1].split("\n#", 1)[0]
        assert "*Meaning:*" in section and "*Trace:*" in section, name
        assert alert["labels"]["severity"] in ("warning", "critical")
        assert alert["annotations"]["summary"]
        anchor = alert["annotations"]["runbook_url"].split("#", 1)[1]
        assert anchor in headings, anchor
        reads[name] = _check_expression(name, alert["expr"], exported)
    # each condition the issue lists has its alert, on the metric that measures it
    for name, metrics in {
            "DeadLettersPresent": {"clientops_dead_letters"},
            "OutboxStuck": {"clientops_outbox_lag_seconds"},
            "ConsumerFailuresRising": {"clientops_consumer_failures_total"},
            "InvoiceRunFailed": {"clientops_invoice_run_failed_periods",
                                 "clientops_job_duration_seconds_count"},
            "SlaTimerLate": {"clientops_sla_timer_late_seconds",
                             "clientops_job_duration_seconds_count"},
            "MailFailing": {"clientops_mail_failures_total", "clientops_mail_deliveries"}
    }.items():
        assert metrics <= reads[name], (name, reads[name])
    assert "> 60" in alerts["OutboxStuck"]["expr"]
    # the periodic jobs the rules name are the ones the services run
    sources = "".join(p.read_text() for p in ROOT.glob("services/*/src/**/*.py"))
    for job in set(re.findall(r'job_name=~?"([^"]+)"', "".join(
            a["expr"] for a in alerts.values()))):
        for one in job.split("|"):
            assert f'"{one}"' in sources, one
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    assert prometheus["rule_files"] == ["/etc/prometheus/alerts.yml"]
    (scrape,) = prometheus["scrape_configs"]
    assert scrape["honor_labels"] is True  # the series' own service label wins
    assert len([t for c in scrape["static_configs"] for t in c["targets"]]) == 6
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/clientops.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            _check_expression(panel["title"], target["expr"], exported)


async def test_the_migration_init_containers_of_two_replicas_may_start_together(
    servers: Servers,
) -> None:
    name = f"clientops_field_ops_t{servers.run_id}_{uuid.uuid4().hex[:6]}"
    await create_databases([name], servers.pg_dsn)
    env = {**os.environ, "DATABASE_URL": database_url(name, servers.pg_dsn)}
    try:
        procs = [await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clientops_shared.devtools", "migrate", "--service",
            "field_ops", env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE) for _ in range(2)]
        results = [await p.communicate() for p in procs]
        for proc, (out, err) in zip(procs, results, strict=True):
            assert proc.returncode == 0, err.decode()[-2000:]
            assert b"at head" in out
    finally:
        await drop_databases([name], servers.pg_dsn)
