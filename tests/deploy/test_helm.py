"""deploy/helm/kiss-esuite-adapter: rendered and linted offline with helm-python-sdk (Helm's own Go
SDK in a wheel: no helm binary, no cluster, no network), validated with kubernetes-validate in
strict mode on the oldest and newest Kubernetes the manifests promise, for the default values,
an ICATT-style values file and a values file with every option on; and kept equivalent to the
kustomize base.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.conftest import REPO, missing
from tests.deploy.test_kubernetes import BASE, OLDEST_KUBERNETES, render

CHART = REPO / "deploy" / "helm" / "kiss-esuite-adapter"
FIXTURES = Path(__file__).with_name("fixtures") / "helm"
RELEASE, NAMESPACE = "kiss-esuite-adapter", "kiss"
# Labels only Helm adds; the kustomize base has the others.
HELM_LABELS = (
    "helm.sh/chart",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
)


def values(name: str) -> dict[str, Any]:
    if name == "default":
        return {}
    return yaml.safe_load((FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def helm():
    try:
        import helm_python
    except ImportError:
        missing("helm-python-sdk")
    return helm_python


@pytest.fixture(scope="module")
def validator():
    try:
        import kubernetes_validate
    except ImportError:
        missing("kubernetes-validate")
    return kubernetes_validate


def render_chart(helm, overrides: dict[str, Any], release: str = RELEASE) -> list[dict[str, Any]]:
    with helm.Chart.load(str(CHART)) as chart:
        manifests = chart.render(overrides, name=release, namespace=NAMESPACE, is_install=True)
    documents = []
    for path, text in sorted(manifests.items()):
        if path.endswith(".yaml"):
            documents.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return documents


def one(documents, kind: str) -> dict[str, Any]:
    found = [d for d in documents if d["kind"] == kind]
    assert len(found) == 1, f"{kind}: {len(found)} found"
    return found[0]


def pod_spec(documents) -> dict[str, Any]:
    return one(documents, "Deployment")["spec"]["template"]["spec"]


def container(documents) -> dict[str, Any]:
    (c,) = pod_spec(documents)["containers"]
    return c


def env(documents) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(documents)["env"]}


# --- lint, render, validate ------------------------------------------------------------------------


def test_helm_python_sdk_is_helms_go_sdk_in_the_wheel(helm):
    assert re.fullmatch(r"v4\.\d+\.\d+", helm.helm_sdk_version()), helm.helm_sdk_version()
    library = Path(helm.__file__).parent / "lib" / "libhelm_c.so"
    assert library.is_file(), "the native Helm library ships in the wheel"


@pytest.mark.parametrize("name", ["default", "icatt-values", "all-options"])
def test_chart_lints_without_findings_above_info(helm, validator, name):
    for version in (OLDEST_KUBERNETES, validator.latest_version()):
        kube_version = "v" + ".".join((version.split(".") + ["0"])[:3])
        report = helm.lint(str(CHART), values(name), strict=True, namespace=NAMESPACE, kube_version=kube_version)
        assert report["errors"] == [], (kube_version, report)
        assert [m for m in report["messages"] if m["severity"] >= 2] == [], (kube_version, report)
        assert report["total_charts_linted"] == 1


def test_lint_reports_a_broken_template(helm, tmp_path):
    """The lint really reads the templates: one unclosed action is an error."""
    broken = tmp_path / "kiss-esuite-adapter"
    shutil.copytree(CHART, broken)
    (broken / "templates" / "service.yaml").write_text("{{- if .Values.service.port\n", encoding="utf-8")
    report = helm.lint(str(broken), strict=True)
    assert report["errors"] or [m for m in report["messages"] if m["severity"] == 3], report


# The prometheus-operator CRD is not in kubernetes-validate: the fields the chart uses, strictly.
DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}
SERVICE_MONITOR_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "endpoints"],
            "properties": {
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"matchNames": {"type": "array", "items": {"type": "string"}}},
                },
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}},
                },
                "endpoints": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string"},
                            "interval": DURATION,
                            "scrapeTimeout": DURATION,
                        },
                    },
                },
            },
        },
    },
}


def validate(validator, documents, versions) -> None:
    for version in versions:
        for document in documents:
            what = f"{document['kind']}/{document['metadata']['name']} on Kubernetes {version}"
            if document["kind"] == "ServiceMonitor":
                jsonschema.validate(document, SERVICE_MONITOR_SCHEMA)
                continue
            try:
                validator.validate(document, version, strict=True)
            except validator.ValidationError as error:
                pytest.fail(f"{what}: {'.'.join(str(p) for p in error.path)}: {error.message}")
            except validator.SchemaNotFoundError as error:
                pytest.fail(f"{what}: {error.message}")


@pytest.mark.parametrize("name", ["default", "icatt-values", "all-options"])
def test_chart_renders_and_validates_against_the_kubernetes_schemas(helm, validator, name):
    documents = render_chart(helm, values(name))
    versions = sorted({OLDEST_KUBERNETES, validator.latest_version()}, key=lambda v: tuple(map(int, v.split("."))))
    assert len(versions) == 2
    validate(validator, documents, versions)


def test_the_service_monitor_check_rejects_a_misspelt_field(helm):
    monitor = one(render_chart(helm, values("all-options")), "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(monitor, SERVICE_MONITOR_SCHEMA)


# --- the default values are the kustomize base -------------------------------------------------------


def without_helm_labels(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_helm_labels(v) for k, v in value.items() if k not in HELM_LABELS}
    if isinstance(value, list):
        return [without_helm_labels(v) for v in value]
    return value


def by_kind(documents) -> dict[tuple[str, str], Any]:
    return {(d["kind"], d["metadata"]["name"]): without_helm_labels(d) for d in documents}


def test_chart_defaults_render_the_kustomize_base(helm):
    """Both stay equivalent: the same objects and fields, but for Helm's own labels and
    `spec.replicas`, which the chart leaves to the HorizontalPodAutoscaler."""
    names = {
        "configuration": {"configMapName": "kiss-esuite-adapter-config", "secretName": "kiss-esuite-adapter-secrets"}
    }
    chart = by_kind(render_chart(helm, names))
    base = by_kind(copy.deepcopy(render(BASE)))
    assert base[("Deployment", "kiss-esuite-adapter")]["spec"].pop("replicas") == 2
    assert sorted(chart) == sorted(base)
    for key in base:
        assert chart[key] == base[key], key


def test_chart_default_configuration_names_are_icatts(helm):
    c = container(render_chart(helm, {}))
    assert c["envFrom"] == [
        {"configMapRef": {"name": "podiumd-adapter-config"}},
        {"secretRef": {"name": "podiumd-adapter-secrets"}},
    ]


# --- ICATT's keys keep their meaning -----------------------------------------------------------------


# The top-level keys of ICATT's helm/podiumd-adapter values.yaml (chart 1.1.0).
ICATT_KEYS = {
    "replicaCount", "image", "imagePullSecrets", "nameOverride", "fullnameOverride", "serviceAccount",
    "podAnnotations", "podSecurityContext", "securityContext", "service", "ingress", "resources",
    "autoscaling", "nodeSelector", "tolerations", "affinity", "strategy", "cronjobs", "extraVolumes",
    "extraVolumeMounts",
}  # fmt: skip


def test_the_icatt_file_uses_every_icatt_key_and_our_values_declare_them():
    assert set(values("icatt-values")) == ICATT_KEYS
    ours = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert ICATT_KEYS - {"cronjobs"} <= set(ours), "cronjobs: accepted and unused, as in ICATT's chart"
    assert {"enabled", "className", "annotations", "hosts", "tls", "host", "secretName"} <= set(ours["ingress"])
    assert set(ours["autoscaling"]) >= {"enabled", "minReplicas", "maxReplicas", "targetCPUUtilizationPercentage"}


@pytest.fixture(scope="module")
def icatt(helm):
    return render_chart(helm, values("icatt-values"), release="podiumd-adapter-release")


def test_icatt_replicas_image_pull_secrets_and_names(icatt):
    deployment = one(icatt, "Deployment")
    assert deployment["metadata"]["name"] == "podiumd-adapter"  # fullnameOverride
    assert deployment["spec"]["replicas"] == 3  # autoscaling.enabled: false
    assert not [d for d in icatt if d["kind"] == "HorizontalPodAutoscaler"]
    c = container(icatt)
    assert c["image"] == "registry.gemeente.example/kiss/kiss-esuite-adapter:0.1.0"
    assert c["imagePullPolicy"] == "Always"
    spec = pod_spec(icatt)
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["serviceAccountName"] == "default"  # serviceAccount.create: false
    assert not [d for d in icatt if d["kind"] == "ServiceAccount"]
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }


def test_icatt_security_contexts_scheduling_and_resources_as_given(icatt):
    spec, c = pod_spec(icatt), container(icatt)
    # Helm merges a given map into the default one: `{}` keeps the chart's hardened default.
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert c["securityContext"] == {
        "privileged": False,
        "allowPrivilegeEscalation": False,
        "runAsNonRoot": True,
        "runAsUser": 10000,
        "capabilities": {"drop": ["all"]},
        "readOnlyRootFilesystem": True,
    }
    # Merged the same way: the default CPU limit stays where the file sets none.
    assert c["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}}
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert spec["tolerations"] == [{"key": "dedicated", "operator": "Equal", "value": "kiss", "effect": "NoSchedule"}]
    required = spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required[0]["labelSelector"]["matchExpressions"][0]["values"] == ["podiumd-adapter"]
    annotations = one(icatt, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["team"] == "klantcontact"


def test_icatt_service_ingress_and_extra_volumes(icatt):
    service = one(icatt, "Service")
    assert service["metadata"]["name"] == "podiumd-adapter"
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]
    ingress = one(icatt, "Ingress")  # ICATT's template: host + secretName
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["adapter.gemeente.example"], "secretName": "adapter-gemeente-tls"}]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "adapter.gemeente.example"
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "podiumd-adapter", "port": {"name": "http"}}
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert pod_spec(icatt)["volumes"] == [{"name": "gemeente-ca", "secret": {"secretName": "gemeente-ca-bundle"}}]
    assert container(icatt)["volumeMounts"] == [
        {"name": "gemeente-ca", "readOnly": True, "subPath": "ca.crt", "mountPath": "/etc/ssl/certs/gemeente-ca.crt"}
    ]
    assert container(icatt)["envFrom"] == [
        {"configMapRef": {"name": "podiumd-adapter-config"}},
        {"secretRef": {"name": "podiumd-adapter-secrets"}},
    ]


# --- every option on ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def everything(helm):
    return render_chart(helm, values("all-options"), release="gemeente")


def test_all_options_environment(everything):
    assert env(everything) == {
        "SHUTDOWN_GRACE_SECONDS": "40",
        "ADAPTER_BASE_URL": "http://kiss-adapter.gemeente.svc.cluster.local",
        "IDEMPOTENCY_REDIS_URL": {"secretKeyRef": {"name": "adapter-redis", "key": "url"}},
        "CA_CERTIFICATES_DIR": "/etc/kiss/certs",
        "EXTRA_CA_CERTS": "/etc/kiss/ca/bundle.pem",
        "OTEL_SDK_DISABLED": "false",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://monitoring-opentelemetry-collector.monitoring.svc.cluster.local:4317",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_SERVICE_NAME": "kiss-esuite-adapter",
        "OTEL_RESOURCE_ATTRIBUTES": "k8s.namespace.name=kiss,deployment.environment=productie,service.namespace=kiss",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.25",
        "LOG_LEVEL": "WARNING",
        "ESUITE_CLIENT_SECRET": {"secretKeyRef": {"name": "esuite-credentials", "key": "secret"}},
    }
    assert [e["name"] for e in container(everything)["env"]][-2:] == ["LOG_LEVEL", "ESUITE_CLIENT_SECRET"]
    assert container(everything)["envFrom"] == [
        {"configMapRef": {"name": "adapter-config"}},
        {"secretRef": {"name": "adapter-secret"}},
    ]


def test_all_options_ca_certificates_are_mounted_as_files_in_the_ca_directory(everything):
    assert container(everything)["volumeMounts"] == [
        {
            "name": "ca-gemeente-root-ca",
            "mountPath": "/etc/kiss/certs/gemeente-root-ca.crt",
            "subPath": "ca.crt",
            "readOnly": True,
        },
        {
            "name": "ca-esuite-issuing-ca",
            "mountPath": "/etc/kiss/certs/esuite-issuing-ca.crt",
            "subPath": "tls.crt",
            "readOnly": True,
        },
        {"name": "bundle", "mountPath": "/etc/kiss/ca", "readOnly": True},
    ]
    assert pod_spec(everything)["volumes"] == [
        {
            "name": "ca-gemeente-root-ca",
            "configMap": {"name": "gemeente-root-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]},
        },
        {
            "name": "ca-esuite-issuing-ca",
            "secret": {"secretName": "esuite-issuing-ca", "items": [{"key": "tls.crt", "path": "tls.crt"}]},
        },
        {"name": "bundle", "configMap": {"name": "gemeente-ca-bundle"}},  # extraVolumes go through tpl
    ]


def test_all_options_grace_probes_and_scaling(everything):
    spec, c = pod_spec(everything), container(everything)
    assert spec["terminationGracePeriodSeconds"] == 60
    assert c["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "10"]
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert "replicas" not in one(everything, "Deployment")["spec"]  # the HPA owns it
    hpa = one(everything, "HorizontalPodAutoscaler")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 8)
    assert [(m["resource"]["name"], m["resource"]["target"]["averageUtilization"]) for m in hpa["metrics"]] == [
        ("cpu", 60),
        ("memory", 80),
    ]
    assert one(everything, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 2
    assert spec["serviceAccountName"] == "kiss-adapter-account"
    assert one(everything, "ServiceAccount")["metadata"]["annotations"] == {"example.org/owner": "klantcontact"}


def test_all_options_service_ingress_and_service_monitor(everything):
    service = one(everything, "Service")
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["ports"][0]["port"] == 80
    ingress = one(everything, "Ingress")["spec"]
    assert ingress["ingressClassName"] == "nginx"
    assert ingress["tls"] == [{"hosts": ["adapter.gemeente.example"], "secretName": "adapter-gemeente-tls"}]
    assert ingress["rules"][0]["http"]["paths"][0]["pathType"] == "Prefix"
    monitor = one(everything, "ServiceMonitor")
    assert monitor["metadata"]["namespace"] == "monitoring"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["kiss"]}
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "15s", "scrapeTimeout": "5s"}
    ]
    assert service["spec"]["ports"][0]["name"] == "http"


def test_opentelemetry_is_off_unless_enabled(helm):
    assert not [name for name in env(render_chart(helm, {})) if name.startswith("OTEL_")]


# --- refused values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"terminationGracePeriodSeconds": 30},
            "must exceed preStopSleepSeconds + 3 s drain + shutdownGraceSeconds (43)",
        ),
        ({"caCertificates": {"files": [{"name": "x", "key": "ca.crt"}]}}, "give exactly one of configMap and secret"),
        (
            {"caCertificates": {"files": [{"name": "x", "key": "ca.crt", "configMap": "a", "secret": "b"}]}},
            "give exactly one of configMap and secret",
        ),
        (
            {"autoscaling": {"targetCPUUtilizationPercentage": None}},
            "needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage",
        ),
    ],
)
def test_inconsistent_values_fail_the_render(helm, overrides, message):
    with pytest.raises(helm.HelmError) as raised:
        render_chart(helm, overrides)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"adapterBaseUrl": "http://podiumd-adapter/api"}, "at '/adapterBaseUrl'"),
        ({"adapterBaseUrl": "podiumd-adapter:8080"}, "at '/adapterBaseUrl'"),
        ({"service": {"port": "80"}}, "at '/service/port': got string, want integer"),
        ({"shutdownGraceSeconds": 301}, "at '/shutdownGraceSeconds'"),
        # The name becomes part of a mount path: no way out of the CA directory.
        ({"caCertificates": {"files": [{"name": "../../x", "key": "ca.crt", "secret": "s"}]}}, "files/0/name"),
        ({"caCertificates": {"files": [{"name": "a", "key": "ca.crt", "secret": "s", "path": "/x"}]}}, "files/0"),
        ({"caCertificates": {"directory": "certs"}}, "at '/caCertificates/directory'"),
        ({"opentelemetry": {"protocol": "udp"}}, "at '/opentelemetry/protocol'"),
        ({"configuration": {"configMapName": "Adapter Config"}}, "at '/configuration/configMapName'"),
        ({"metrics": {"serviceMonitor": {"interval": "often"}}}, "at '/metrics/serviceMonitor/interval'"),
    ],
)
def test_values_of_the_wrong_shape_are_refused_by_the_schema(helm, overrides, message):
    with pytest.raises(helm.HelmValuesError) as raised:
        render_chart(helm, overrides)
    assert message in str(raised.value)
    report = helm.lint(str(CHART), overrides)
    assert any(m["severity"] == 3 and message in m["error"] for m in report["messages"]), report
