"""The PodiumD swap-in (docs/podiumd.md): PodiumD renders the adapter with its own templates, and
the operator swaps in our image with kiss.adapter.image and sets our variables with
kiss.adapter.extraEnvVars.

tests/deploy/podiumd_chart reproduces the shape of PodiumD's adapter templates (Service
podiumd-adapter port 80 → container port http 8080, ConfigMap adapter-config and Secret
adapter-secret through envFrom, one replica, probes on /healthz, uid 1654, read-only root
filesystem). It is rendered offline with the values of fixtures/helm/podiumd-swap-in.yaml; the
environment the pod would get (the image's ENV, then the ConfigMap, the Secret and env, as
Kubernetes layers them) starts the image's own command under uid 1654 on a read-only
filesystem in a network namespace of its own, next to the e-Suite simulator; a contactverzoek
is created through it as KISS creates one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapter.kiss_api.auth import mint_token
from tests.conftest import load_fixture
from tests.deploy.test_entrypoint import AUDIT_MARK, RUNNER, SITECUSTOMIZE, image_command, localise, unshare
from tests.deploy.test_helm import helm  # noqa: F401  (the fixture)

TEST_CHART = Path(__file__).with_name("podiumd_chart")
VALUES = Path(__file__).with_name("fixtures") / "helm" / "podiumd-swap-in.yaml"
RELEASE = NAMESPACE = "podiumd"
# The literals of the rule (docs/podiumd.md), not read from the chart.
ADAPTER_BASE_URL = "http://podiumd-adapter.podiumd.svc.cluster.local"
KISS_INTERNE_TAAK_TYPE = "https://objecttypen.gemeente.example/api/v2/objecttypes/6df21057-e07c-4909-8933-d70b79cfd15e"
OUR_IMAGE = "registry.gemeente.example/kiss/kiss-esuite-adapter:0.1.0"
# PodiumD sets runAsUser 1654 and no runAsGroup: the runtime (containerd, CRI-O) then takes the
# group from the image's /etc/passwd entry for 1654, and our image has none, so the group is 0.
PODIUMD_UID, PODIUMD_GID = 1654, 0


@pytest.fixture(scope="module")
def rendered(helm) -> dict[tuple[str, str], dict[str, Any]]:  # noqa: F811
    with helm.Chart.load(str(TEST_CHART)) as chart:
        manifests = chart.render(yaml.safe_load(VALUES.read_text(encoding="utf-8")), name=RELEASE, namespace=NAMESPACE)
    documents = [d for path, text in manifests.items() if path.endswith(".yaml") for d in yaml.safe_load_all(text) if d]
    return {(d["kind"], d["metadata"]["name"]): d for d in documents}


def adapter_container(rendered) -> dict[str, Any]:
    (c,) = rendered[("Deployment", "podiumd-adapter")]["spec"]["template"]["spec"]["containers"]
    return c


def pod_environment(rendered, image_env: dict[str, str]) -> dict[str, str]:
    """What the container sees: the image's ENV, then envFrom in order, then env (last wins)."""
    c = adapter_container(rendered)
    environment = dict(image_env)
    for source in c["envFrom"]:
        if "configMapRef" in source:
            environment.update(rendered[("ConfigMap", source["configMapRef"]["name"])]["data"])
        else:
            environment.update(rendered[("Secret", source["secretRef"]["name"])]["stringData"])
    for variable in c.get("env", []):
        environment[variable["name"]] = variable["value"]
    return environment


def test_the_test_chart_has_podiumds_shape(rendered):
    assert sorted(rendered) == [
        ("ConfigMap", "adapter-config"),
        ("Deployment", "podiumd-adapter"),
        ("Secret", "adapter-secret"),
        ("Service", "podiumd-adapter"),
    ]
    service = rendered[("Service", "podiumd-adapter")]
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    deployment = rendered[("Deployment", "podiumd-adapter")]
    assert deployment["spec"]["replicas"] == 1
    assert service["spec"]["selector"] == deployment["spec"]["template"]["metadata"]["labels"]
    c = adapter_container(rendered)
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert c["envFrom"] == [{"configMapRef": {"name": "adapter-config"}}, {"secretRef": {"name": "adapter-secret"}}]
    assert c["livenessProbe"]["httpGet"] == c["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["securityContext"]["runAsUser"] == PODIUMD_UID
    assert c["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert "runAsGroup" not in c["securityContext"]
    assert c["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert deployment["spec"]["template"]["spec"]["volumes"] == [{"name": "tmp", "emptyDir": {}}]


def test_our_image_runs_its_own_command_there(rendered):
    c = adapter_container(rendered)
    assert c["image"] == OUR_IMAGE
    assert "command" not in c and "args" not in c, "the image's ENTRYPOINT and CMD run"
    argv, _ = image_command()
    assert argv[argv.index("--port") + 1] == str(c["ports"][0]["containerPort"])


def test_the_environment_has_the_origin_and_kiss_interne_taak_type(rendered):
    _, image_env = image_command()
    environment = pod_environment(rendered, image_env)
    assert environment["ADAPTER_BASE_URL"] == ADAPTER_BASE_URL
    # The Service KISS calls: name and namespace of the origin, port 80 (implied by http://).
    assert f"http://podiumd-adapter.{NAMESPACE}.svc.cluster.local" == ADAPTER_BASE_URL
    assert rendered[("Service", "podiumd-adapter")]["spec"]["ports"][0]["port"] == 80
    # PodiumD's ConfigMap builds the type from the internal objecttypen URL; extraEnvVars wins.
    config = rendered[("ConfigMap", "adapter-config")]["data"]
    assert config["INTERNE_TAAK_OBJECT_TYPE_URL"] == (
        "http://objecttypen.podiumd.svc.cluster.local/api/v2/objecttypes/6df21057-e07c-4909-8933-d70b79cfd15e"
    )
    assert environment["INTERNE_TAAK_OBJECT_TYPE_URL"] == KISS_INTERNE_TAAK_TYPE


def readable_directory() -> Path:
    """A directory uid 1654 can read (pytest's tmp_path is root's only)."""
    directory = Path(tempfile.mkdtemp(prefix="podiumd-swap-in-"))
    directory.chmod(0o755)
    return directory


def interpreter_reachable(work: Path) -> list[str]:
    """A shell prefix that lets uid 1654 reach this interpreter inside the mount namespace.

    The image has Python under /usr/local; here it may sit below a directory only root may
    enter (pyenv under /root). The prefix puts an empty, world-readable tmpfs over that
    directory and binds the interpreter's part of it back, in the sandbox's own mounts only;
    the runner then remounts it read-only with everything else.
    """
    path = Path(os.path.realpath(sys.base_prefix))
    closed = next((p for p in reversed(path.parents) if not os.stat(p).st_mode & 0o001), None)
    if closed is None:
        return []
    keep = closed / path.relative_to(closed).parts[0]
    hold = work / "interpreter"
    hold.mkdir(mode=0o755)
    script = (
        f'mount --bind "{keep}" "{hold}" && mount -t tmpfs -o mode=0755 tmpfs "{closed}" '
        f'&& mkdir "{keep}" && mount --bind "{hold}" "{keep}" && exec "$@"'
    )
    return ["sh", "-c", script, "sh"]


def as_podiumd_user() -> list[str]:
    """runAsUser 1654 without runAsGroup: group 0, no supplementary groups, no capabilities."""
    return ["setpriv", f"--reuid={PODIUMD_UID}", f"--regid={PODIUMD_GID}", "--clear-groups", "--"]


def run_spec(rendered, work: Path) -> dict[str, Any]:
    argv, image_env = image_command()
    environment = {name: localise(value) for name, value in pod_environment(rendered, image_env).items()}
    audit = work / "audit"
    audit.mkdir(mode=0o755)
    (audit / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    (audit / "sitecustomize.py").chmod(0o644)
    (work / "workdir").mkdir(mode=0o755)
    environment["PYTHONPATH"] = str(audit)  # the observer only
    secret = rendered[("Secret", "adapter-secret")]["stringData"]
    token = mint_token(secret["CLIENTS__0__ID"], secret["CLIENTS__0__SECRET"], time.time(), user_id="jjansen")
    body = load_fixture("kiss/post-contactverzoek-afdeling-anonymous-v0.6.json")
    state = {"method": "GET", "url": "http://127.0.0.1:8081/_sim/state"}
    post = {
        "method": "POST",
        "url": "http://127.0.0.1:8080/contactmomenten/api/v1/contactmomenten",
        "headers": {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        "body": body,
    }
    sim_env = {"PATH": environment["PATH"], "ESUITE_CLIENT_ID": secret["ESUITE_CLIENT_ID"]}
    sim_env.update(ESUITE_CLIENT_SECRET=secret["ESUITE_CLIENT_SECRET"], PYTHONPATH=str(Path(__file__).parents[2]))
    return {
        "sandbox": True,
        "simulator": {
            "argv": [sys.executable, "-m", "adapter", "simulate", "--port", "8081", "--base-path", "/esuite"],
            "env": sim_env,
            "ready_url": "http://127.0.0.1:8081/_sim/state",
        },
        "command": {
            # setpriv changes the ids and then execs the command in the same process.
            "argv": [*as_podiumd_user(), *(localise(word) for word in argv)],
            "env": environment,
            "cwd": str(work / "workdir"),
        },
        "adapter_url": "http://127.0.0.1:8080",
        "calls": [state, post, state],
    }


def test_the_swapped_in_adapter_starts_under_uid_1654_read_only_and_creates_a_contactverzoek(rendered):
    sandbox = unshare()
    if sandbox is None or os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and namespaces (as in CI): uid 1654, port 8080, read-only remount")
    work = readable_directory()
    try:
        spec = run_spec(rendered, work)
        done = subprocess.run(
            [*sandbox, "--", *interpreter_reachable(work), sys.executable, str(RUNNER), json.dumps(spec)],
            check=False,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        context = json.dumps({k: v for k, v in result.items() if k != "calls"}, indent=2)
        assert "error" not in result, context
        assert result["read_only"], context
        assert result["ids"].get("Uid", "").split() == [str(PODIUMD_UID)] * 4, context
        assert result["ids"]["Gid"].split() == [str(PODIUMD_GID)] * 4, context
        assert result["ids"]["Groups"] == "" and int(result["ids"]["CapEff"], 16) == 0, context
        assert result["healthz"] == [200, "Healthy"], context
        assert result["readyz"][0] == 200, context
        assert_one_contactverzoek_created(result["calls"], context)
        assert result["exit_code"] == 0, context
        assert f"{AUDIT_MARK} active" in result["stderr"], context
        writes = [line for line in result["stderr"].splitlines() if line.startswith(f"{AUDIT_MARK} write")]
        assert writes == [], context
    finally:
        shutil.rmtree(work, ignore_errors=True)


def assert_one_contactverzoek_created(calls, context: str) -> None:
    (before_status, before), (status, answer), (after_status, after) = calls
    assert (before_status, status, after_status) == (200, 201, 200), f"{status}: {answer}\n{context}"
    created = json.loads(answer)
    assert created["url"].startswith(f"{ADAPTER_BASE_URL}/contactmomenten/api/v1/contactmomenten/"), created["url"]
    known = {c["url"] for c in json.loads(before)["contacts"]}
    new = [c for c in json.loads(after)["contacts"] if c["url"] not in known]
    assert len(new) == 1, [c["url"] for c in new]
    assert created["url"].rsplit("/", 1)[1] == new[0]["url"].rsplit("/", 1)[1]
    # A contactverzoek: the configured type, unfinished, with the actor as its handler.
    shown = (new[0]["type"], new[0]["status"], new[0]["afdeling"])
    assert shown == ("Terugbelverzoek", "nieuw", "Beheer openbare ruimte")
