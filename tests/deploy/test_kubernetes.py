"""deploy/kubernetes: rendered with `kubectl kustomize`, validated against the Kubernetes schemas
(kubernetes-validate, strict, offline), and checked against the rules of issue 9 and the image.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import dockerfile
from tests.deploy.conftest import DOCKERFILE, KUBERNETES, missing, tool

BASE = KUBERNETES / "base"
EXAMPLE = KUBERNETES / "overlays" / "example"
# The oldest Kubernetes these manifests promise to work on, and the newest schema installed.
OLDEST_KUBERNETES = "1.30"
LABELS = {"app.kubernetes.io/name": "kiss-esuite-adapter", "app.kubernetes.io/component": "adapter"}


@functools.cache
def render(directory: Path) -> tuple[dict[str, Any], ...]:
    done = subprocess.run(
        [tool("kubectl"), "kustomize", str(directory)], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def one(documents, kind: str, name: str = "kiss-esuite-adapter") -> dict[str, Any]:
    found = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def container(documents) -> dict[str, Any]:
    containers = one(documents, "Deployment")["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "adapter")


def env_value(c: dict[str, Any], name: str) -> str | None:
    return next((e.get("value") for e in c.get("env", []) if e["name"] == name), None)


def overlay(tmp_path: Path, text: str, **files: str) -> Path:
    """A kustomization in tmp_path that builds on the repository's base and components."""
    (tmp_path / "kustomization.yaml").write_text(
        text.replace("BASE", os.path.relpath(BASE, tmp_path)).replace(
            "COMPONENTS", os.path.relpath(KUBERNETES / "components", tmp_path)
        ),
        encoding="utf-8",
    )
    for name, content in files.items():
        (tmp_path / f"{name}.yaml").write_text(content, encoding="utf-8")
    return tmp_path


def with_ingress(tmp_path: Path) -> Path:
    return overlay(tmp_path, "resources:\n  - BASE\ncomponents:\n  - COMPONENTS/ingress\n")


def with_redis(tmp_path: Path) -> Path:
    return overlay(tmp_path, "resources:\n  - BASE\ncomponents:\n  - COMPONENTS/redis\n")


# --- schema validation ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator():
    try:
        import kubernetes_validate
    except ImportError:
        missing("kubernetes-validate")
    return kubernetes_validate


@pytest.mark.parametrize("target", ["base", "example", "ingress", "redis"])
def test_manifests_render_and_validate_against_the_kubernetes_schemas(target, validator, tmp_path):
    directory = {"base": BASE, "example": EXAMPLE}.get(target) or {"ingress": with_ingress, "redis": with_redis}[
        target
    ](tmp_path)
    documents = render(directory)
    assert documents
    versions = sorted({OLDEST_KUBERNETES, validator.latest_version()}, key=lambda v: tuple(map(int, v.split("."))))
    for version in versions:
        for document in documents:
            what = f"{document['kind']}/{document['metadata']['name']} on Kubernetes {version}"
            try:
                validator.validate(document, version, strict=True)
            except validator.ValidationError as error:
                path = ".".join(str(p) for p in error.path)
                pytest.fail(f"{what}: {path}: {error.message}")
            except validator.SchemaNotFoundError as error:
                pytest.fail(f"{what}: {error.message}")


def test_the_validator_rejects_a_misspelt_field(validator):
    deployment = one(render(BASE), "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    c = broken["spec"]["template"]["spec"]["containers"][0]
    c["readinesProbe"] = c.pop("readinessProbe")
    with pytest.raises(validator.ValidationError):
        validator.validate(broken, OLDEST_KUBERNETES, strict=True)


# --- the base -----------------------------------------------------------------------------------


def test_base_has_the_expected_objects_and_no_configuration_data():
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in render(BASE))
    assert kinds == [
        ("Deployment", "kiss-esuite-adapter"),
        ("HorizontalPodAutoscaler", "kiss-esuite-adapter"),
        ("PodDisruptionBudget", "kiss-esuite-adapter"),
        ("Service", "kiss-esuite-adapter"),
        ("ServiceAccount", "kiss-esuite-adapter"),
    ]
    for target in (BASE, EXAMPLE):  # configuration is the operator's, never shipped here
        assert not [d for d in render(target) if d["kind"] in ("ConfigMap", "Secret")]


def test_deployment_two_replicas_spread_and_rolled_without_unavailability():
    deployment = one(render(BASE), "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"]["matchLabels"] == LABELS
    assert LABELS.items() <= spec["template"]["metadata"]["labels"].items()
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert spec["strategy"]["rollingUpdate"]["maxSurge"] >= 1
    terms = spec["template"]["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert any(
        t["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        and t["podAffinityTerm"]["labelSelector"]["matchLabels"] == LABELS
        for t in terms
    )


def test_pod_and_container_security_context_are_hardened_and_match_the_image_user():
    pod = one(render(BASE), "Deployment")["spec"]["template"]["spec"]
    c = container(render(BASE))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    security = c["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["privileged"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    user = dockerfile.parse(DOCKERFILE).final.all("USER")[-1].arguments
    uid, _, gid = user.partition(":")
    assert pod["securityContext"]["runAsUser"] == int(uid)
    assert pod["securityContext"]["runAsGroup"] == int(gid or uid)
    assert not pod.get("volumes"), "the adapter writes nothing, so it needs no writable volume"


def test_container_uses_the_image_command_port_and_has_requests_and_limits():
    c = container(render(BASE))
    assert "command" not in c and "args" not in c, "the image's ENTRYPOINT and CMD are the contract"
    final = dockerfile.parse(DOCKERFILE).final
    cmd = dockerfile.exec_form(final, "CMD")
    image_port = int(cmd[cmd.index("--port") + 1])
    assert [(p["name"], p["containerPort"]) for p in c["ports"]] == [("http", image_port)]
    assert [int(e.arguments) for e in final.all("EXPOSE")] == [image_port]
    assert not c["image"].endswith(":latest") and ":" in c["image"]
    for kind in ("requests", "limits"):
        assert set(c["resources"][kind]) == {"cpu", "memory"}


def test_probes_liveness_healthz_readiness_readyz():
    c = container(render(BASE))
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    # /readyz may wait up to 5 s for the e-Suite (operations.md §3) before it answers.
    assert c["readinessProbe"]["timeoutSeconds"] > 5


def test_termination_grace_exceeds_pre_stop_plus_drain_plus_shutdown_grace():
    pod = one(render(BASE), "Deployment")["spec"]["template"]["spec"]
    c = container(render(BASE))
    grace = int(env_value(c, "SHUTDOWN_GRACE_SECONDS"))
    assert grace == 30 + 5, "the default budget plus the margin: a create in flight finishes (issue 14)"
    command = c["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = int(command[1])
    readiness_drain = 3  # operations.md §5.7: /readyz says shutting-down while still serving
    assert pod["terminationGracePeriodSeconds"] > pre_stop + readiness_drain + grace
    assert pod["terminationGracePeriodSeconds"] == 50


def test_service_hpa_and_pdb_point_at_the_pods():
    documents = render(BASE)
    service = one(documents, "Service")
    assert service["spec"]["selector"] == LABELS
    assert [(p["name"], p["targetPort"]) for p in service["spec"]["ports"]] == [("http", "http")]
    hpa = one(documents, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "kiss-esuite-adapter",
    }
    assert hpa["spec"]["minReplicas"] == one(documents, "Deployment")["spec"]["replicas"] == 2
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    pdb = one(documents, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"] == LABELS
    assert pdb["spec"]["maxUnavailable"] == 1
    # Readiness follows the e-Suite: unready pods must still be evictable during a drain.
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_ingress_component_routes_to_the_service(tmp_path):
    documents = render(with_ingress(tmp_path))
    ingress = one(documents, "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = one(documents, "Service")
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in [p["name"] for p in service["spec"]["ports"]]


# --- configuration names --------------------------------------------------------------------------


def env_from(documents) -> list[tuple[str, str]]:
    return [(kind, ref["name"]) for item in container(documents)["envFrom"] for kind, ref in item.items()]


def test_base_reads_its_default_configmap_and_secret():
    assert env_from(render(BASE)) == [
        ("configMapRef", "kiss-esuite-adapter-config"),
        ("secretRef", "kiss-esuite-adapter-secrets"),
    ]


def test_example_overlay_reads_podiumds_configmap_and_secret():
    documents = render(EXAMPLE)
    assert env_from(documents) == [("configMapRef", "adapter-config"), ("secretRef", "adapter-secret")]
    text = yaml.safe_dump_all(documents)
    assert "kiss-esuite-adapter-config" not in text and "kiss-esuite-adapter-secrets" not in text
    assert "kiss-esuite-adapter-parameters" not in text, "the parameters are local to kustomize"


def test_configuration_names_are_parameters(tmp_path):
    parameters = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: kiss-esuite-adapter-parameters
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  configMapName: gemeente-adapter-config
  secretName: gemeente-adapter-credentials
"""
    directory = overlay(
        tmp_path,
        "resources:\n  - BASE\n  - parameters.yaml\ncomponents:\n  - COMPONENTS/configuration-names\n",
        parameters=parameters,
    )
    assert env_from(render(directory)) == [
        ("configMapRef", "gemeente-adapter-config"),
        ("secretRef", "gemeente-adapter-credentials"),
    ]


def test_example_overlay_origin_is_its_own_service_on_port_80_and_takes_over_nothing_of_podiumd():
    """ADAPTER_BASE_URL is the cluster address of the overlay's Service, port 80 as PodiumD's;
    no object carries a name PodiumD's Helm release owns (its Service, ConfigMap, Secret)."""
    documents = render(EXAMPLE)
    c = container(documents)
    origin = env_value(c, "ADAPTER_BASE_URL")
    match = re.fullmatch(r"http://([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local", origin or "")
    assert match, origin
    service = one(documents, "Service", match.group(1))
    assert service["metadata"]["namespace"] == match.group(2) == "podiumd"
    assert service["spec"]["selector"] == LABELS
    assert [p["port"] for p in service["spec"]["ports"]] == [80]
    podiumd_names = {"podiumd-adapter", "adapter-config", "adapter-secret"}
    assert not [d["metadata"]["name"] for d in documents if d["metadata"]["name"] in podiumd_names]
    assert env_value(c, "SHUTDOWN_GRACE_SECONDS") == "35", "the overlay's env patch keeps the base's"
    assert c["image"] == "registry.example.org/kiss/kiss-esuite-adapter:0.1.0"
    assert {d["metadata"].get("namespace") for d in documents} == {"podiumd"}


# --- the Redis component (issue 14 item 5) ------------------------------------------------------


def redis_container(documents) -> dict[str, Any]:
    statefulset = one(documents, "StatefulSet", "kiss-esuite-adapter-redis")
    [c] = statefulset["spec"]["template"]["spec"]["containers"]
    return c


def test_redis_component_persists_with_aof_on_a_volume_and_never_evicts(tmp_path):
    documents = render(with_redis(tmp_path))
    statefulset = one(documents, "StatefulSet", "kiss-esuite-adapter-redis")
    c = redis_container(documents)
    args = c["args"]
    option = {args[i]: args[i + 1] for i in range(1, len(args) - 1) if args[i].startswith("--")}
    assert args[0] == "redis-server"
    assert option["--appendonly"] == "yes"
    assert option["--appendfsync"] in ("everysec", "always")
    assert option["--maxmemory-policy"] == "noeviction"
    assert option["--requirepass"] == "$(REDIS_PASSWORD)"
    [claim] = statefulset["spec"]["volumeClaimTemplates"]
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == option["--dir"]
    assert statefulset["spec"]["replicas"] == 1
    assert not c["image"].endswith(":latest") and ":" in c["image"]


def test_redis_component_is_hardened_and_reachable_only_from_the_adapter(tmp_path):
    documents = render(with_redis(tmp_path))
    pod = one(documents, "StatefulSet", "kiss-esuite-adapter-redis")["spec"]["template"]["spec"]
    c = redis_container(documents)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    [env] = c["env"]
    assert env["valueFrom"]["secretKeyRef"] == {"name": "kiss-esuite-adapter-redis", "key": "password"}
    service = one(documents, "Service", "kiss-esuite-adapter-redis")
    redis_labels = {"app.kubernetes.io/name": "kiss-esuite-adapter", "app.kubernetes.io/component": "redis"}
    assert service["spec"]["selector"] == redis_labels
    assert [p["port"] for p in service["spec"]["ports"]] == [6379]
    policy = one(documents, "NetworkPolicy", "kiss-esuite-adapter-redis")
    assert policy["spec"]["podSelector"]["matchLabels"] == redis_labels
    [rule] = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": LABELS}}]
    # The adapter's own pods do not match the Redis selector (its Service must not pick them).
    assert one(documents, "Service")["spec"]["selector"] == LABELS
    assert not [d for d in documents if d["kind"] in ("ConfigMap", "Secret")], "the password is the operator's"
