"""Renders deploy/kubernetes/clientops.yaml (run it after changing this file; the schema test
checks that the committed manifest is what this renders).

    .venv/bin/python deploy/kubernetes/render.py > deploy/kubernetes/clientops.yaml

What it describes:
- one Deployment per service, image pinned by version, non-root with a read-only root file
  system (a writable /tmp only), startup/readiness/liveness probes, an init container that
  migrates the service's own database to head before the app starts (every rollout, under a
  PostgreSQL advisory lock, so replicas never migrate at once), a PodDisruptionBudget, and a
  HorizontalPodAutoscaler for each event consumer;
- PostgreSQL per service by the CloudNativePG operator (``postgresql.cnpg.io/v1`` Cluster,
  3 instances, its generated ``<name>-db-app`` Secret feeds DATABASE_URL);
- RabbitMQ as a 3-node quorum cluster by the RabbitMQ cluster operator
  (``rabbitmq.com/v1beta1`` RabbitmqCluster; its ``clientops-rabbitmq-default-user`` Secret
  feeds the broker URL);
- the JWT secret and the object-storage keys from Secrets created outside this file
  (``kubectl create secret generic clientops-jwt --from-literal=CLIENTOPS_JWT_SECRET=…``,
  ``clientops-s3`` with ``CONTRACTS_S3_ACCESS_KEY`` / ``CONTRACTS_S3_SECRET_KEY``): nothing
  secret is committed here.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

VERSION = "0.1.0"
IMAGE = f"registry.clientops.internal/clientops:{VERSION}"
NS = "clientops"
# name, python package, port, consumes events, database cluster name
SERVICES = (
    ("web", "web", 8000, False),
    ("contracts", "contracts", 8001, True),
    ("billing", "billing", 8002, True),
    ("field-ops", "field_ops", 8003, True),
    ("logistics", "logistics", 8004, True),
    ("notifications", "notifications", 8005, True),
)
ENV_PREFIX = {"web": "WEB_", "contracts": "CONTRACTS_", "billing": "BILLING_",
              "field-ops": "FIELD_OPS_", "logistics": "LOGISTICS_",
              "notifications": "NOTIFICATIONS_"}
RABBITMQ = "clientops-rabbitmq"


def meta(name: str, **labels: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "namespace": NS}
    if labels:
        out["labels"] = labels
    return out


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def database_env(service: str, package: str) -> list[dict[str, Any]]:
    cluster = f"{service}-db"
    return [
        secret_env("DB_USER", f"{cluster}-app", "username"),
        secret_env("DB_PASSWORD", f"{cluster}-app", "password"),
        # the service's own database on its own cluster (read-write service of CloudNativePG)
        {"name": "DATABASE_URL",
         "value": f"postgresql+asyncpg://$(DB_USER):$(DB_PASSWORD)@{cluster}-rw.{NS}.svc:5432/"
                  f"{package}"},
    ]


def common_env() -> list[dict[str, Any]]:
    return [
        secret_env("RABBITMQ_USER", f"{RABBITMQ}-default-user", "username"),
        secret_env("RABBITMQ_PASSWORD", f"{RABBITMQ}-default-user", "password"),
        {"name": "CLIENTOPS_AMQP_URL",
         "value": f"amqp://$(RABBITMQ_USER):$(RABBITMQ_PASSWORD)@{RABBITMQ}.{NS}.svc:5672/"},
    ]


SECURITY = {
    "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
    "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
}


def container(name: str, command: list[str], env: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name, "image": IMAGE, "imagePullPolicy": "IfNotPresent", "command": command,
        "env": env,
        "envFrom": [{"configMapRef": {"name": "clientops-config"}},
                    {"secretRef": {"name": "clientops-jwt"}}],
        "securityContext": SECURITY,
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                      "limits": {"memory": "512Mi"}},
    }


def deployment(service: str, package: str, port: int) -> dict[str, Any]:
    prefix = ENV_PREFIX[service]
    env = [*common_env(), *database_env(service, package),
           {"name": f"{prefix}HOST", "value": "0.0.0.0"},
           {"name": f"{prefix}PORT", "value": str(port)}]
    if service == "contracts":
        env += [secret_env("CONTRACTS_S3_ACCESS_KEY", "clientops-s3", "CONTRACTS_S3_ACCESS_KEY"),
                secret_env("CONTRACTS_S3_SECRET_KEY", "clientops-s3", "CONTRACTS_S3_SECRET_KEY")]
    app = container(service, ["python", "-m", package], env)
    app["ports"] = [{"name": "http", "containerPort": port}]
    probe = {"httpGet": {"path": "/health/ready", "port": "http"}}
    app["startupProbe"] = {**probe, "periodSeconds": 2, "failureThreshold": 60}
    app["readinessProbe"] = {**probe, "periodSeconds": 5, "failureThreshold": 3}
    app["livenessProbe"] = {"httpGet": {"path": "/health/live", "port": "http"},
                            "periodSeconds": 10, "failureThreshold": 3}
    migrate = container("migrate", ["python", "-m", "clientops_shared.devtools", "migrate",
                                    "--service", package], env)
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": meta(service, app=service, **{"app.kubernetes.io/version": VERSION}),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": service}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": {"app": service},
                             "annotations": {"prometheus.io/scrape": "true",
                                             "prometheus.io/port": str(port),
                                             "prometheus.io/path": "/metrics"}},
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                        "runAsGroup": 10001, "fsGroup": 10001},
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": 30,
                    # the database at head before the new version serves or consumes
                    "initContainers": [migrate],
                    "containers": [app],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": {"app": service}}}],
                },
            },
        },
    }


def service_object(service: str, port: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(service, app=service),
            "spec": {"selector": {"app": service},
                     "ports": [{"name": "http", "port": port, "targetPort": "http"}]}}


def pdb(service: str) -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta(service),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": service}}}}


def hpa(service: str) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": meta(service),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service},
            "minReplicas": 2, "maxReplicas": 6,
            "metrics": [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
        },
    }


def database(service: str, package: str) -> dict[str, Any]:
    return {
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
        "metadata": meta(f"{service}-db", app=service),
        "spec": {
            "instances": 3,
            "imageName": "ghcr.io/cloudnative-pg/postgresql:15.10",
            "storage": {"size": "10Gi"},
            "bootstrap": {"initdb": {"database": package, "owner": package}},
            # point-in-time recovery: the runbook's restore starts a new cluster from this
            "backup": {"retentionPolicy": "30d", "barmanObjectStore": {
                "destinationPath": f"s3://clientops-backups/{service}",
                "endpointURL": "https://object-storage.clientops.internal",
                "s3Credentials": {
                    "accessKeyId": {"name": "clientops-backup-s3", "key": "ACCESS_KEY_ID"},
                    "secretAccessKey": {"name": "clientops-backup-s3",
                                        "key": "ACCESS_SECRET_KEY"}}}},
            "monitoring": {"enablePodMonitor": True},
        },
    }


def scheduled_backup(service: str) -> dict[str, Any]:
    return {"apiVersion": "postgresql.cnpg.io/v1", "kind": "ScheduledBackup",
            "metadata": meta(f"{service}-db-daily"),
            "spec": {"schedule": "0 0 2 * * *", "backupOwnerReference": "self",
                     "cluster": {"name": f"{service}-db"}}}


def rabbitmq() -> dict[str, Any]:
    return {
        "apiVersion": "rabbitmq.com/v1beta1", "kind": "RabbitmqCluster",
        "metadata": meta(RABBITMQ),
        "spec": {
            "replicas": 3,
            "image": "rabbitmq:3.13.7-management",
            "persistence": {"storage": "10Gi"},
            "rabbitmq": {"additionalConfig": "\n".join([
                "default_queue_type = quorum",
                "cluster_partition_handling = pause_minority",
                "vm_memory_high_watermark.relative = 0.6",
            ]) + "\n"},
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                          "limits": {"memory": "2Gi"}},
        },
    }


def config_map() -> dict[str, Any]:
    data = {
        "CLIENTOPS_LOG_JSON": "1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector.observability.svc:4318",
        "CLIENTOPS_TRACE_URL": "https://jaeger.clientops.internal/trace/{trace_id}",
        "CONTRACTS_S3_BUCKET": "clientops-scans",
        "CONTRACTS_S3_ENDPOINT_URL": "https://object-storage.clientops.internal",
        "NOTIFICATIONS_SMTP_HOST": "smtp.clientops.internal",
        "NOTIFICATIONS_SMTP_PORT": "587",
        "NOTIFICATIONS_SMTP_START_TLS": "true",
    }
    for service, _, port, _ in SERVICES:
        data[f"{ENV_PREFIX[service]}URL"] = f"http://{service}.{NS}.svc:{port}"
    data["NOTIFICATIONS_BILLING_URL"] = f"http://billing.{NS}.svc:8002"
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("clientops-config"),
            "data": data}


def documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": NS, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
        config_map(),
        rabbitmq(),
    ]
    for service, package, port, consumes in SERVICES:
        docs += [database(service, package), scheduled_backup(service),
                 deployment(service, package, port), service_object(service, port), pdb(service)]
        if consumes:
            docs.append(hpa(service))
    return docs


def render() -> str:
    header = "".join(f"# {line}\n" if line else "#\n" for line in (
        "GENERATED by deploy/kubernetes/render.py: edit that, then",
        ".venv/bin/python deploy/kubernetes/render.py > deploy/kubernetes/clientops.yaml",
        "",
        "Operators this needs in the cluster: CloudNativePG (postgresql.cnpg.io) for one",
        "PostgreSQL cluster per service, the RabbitMQ cluster operator (rabbitmq.com) for a",
        "3-node quorum broker. Secrets made outside this file (never committed):",
        "clientops-jwt (CLIENTOPS_JWT_SECRET), clientops-s3 (CONTRACTS_S3_ACCESS_KEY,",
        "CONTRACTS_S3_SECRET_KEY), clientops-backup-s3 (ACCESS_KEY_ID, ACCESS_SECRET_KEY).",
    ))
    return header + yaml.safe_dump_all(documents(), sort_keys=False, width=100)


if __name__ == "__main__":
    sys.stdout.write(render())
