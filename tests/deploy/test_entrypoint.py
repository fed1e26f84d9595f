"""The image's exact command and environment, run outside a container (no Docker daemon here).

The Dockerfile's final stage is read: ENTRYPOINT + CMD is the command, its ENV on top of the
base image's environment is the environment, /opt/venv is this virtual environment. A valid
configuration pointing at the e-Suite simulator is added, as a ConfigMap and Secret would.

Where `unshare` may create namespaces (root, as in CI), it runs in a network namespace of its
own, so the image's port 8080 is used as is, and with every filesystem remounted read-only, as
with readOnlyRootFilesystem. Elsewhere it runs on free ports without the remount. In both cases
a Python audit hook reports any attempt to open a file for writing or to change the filesystem.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from pathlib import Path

import pytest

from tests.deploy import dockerfile
from tests.deploy.conftest import DOCKERFILE

RUNNER = Path(__file__).with_name("container_run.py")
IMAGE_VENV = "/opt/venv"
# What python:3.x-slim sets before our ENV lines; HOME comes from the image user's passwd entry.
BASE_IMAGE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/nonexistent",
}
CLIENT_ID, CLIENT_SECRET = "kiss-esuite-adapter", "esuite-secret-0123456789abcdefghijklmnopqrstuvwxyz"
AUDIT_MARK = "deploy-test-audit:"

# Imported first by the adapter's interpreter (PYTHONPATH): reports writes, does not block them.
SITECUSTOMIZE = textwrap.dedent(
    f"""
    import os, sys
    _WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    _CHANGES = {{"os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.link",
                 "os.truncate", "os.chmod", "os.chown", "os.utime", "shutil.rmtree"}}

    def _report(event, path):
        os.write(2, ("{AUDIT_MARK} write " + event + " " + str(path) + "\\n").encode())

    def _hook(event, args):
        if event == "open":
            path, mode, flags = args
            if isinstance(path, str) and path.startswith(("/dev/", "/proc/")):
                return
            if (mode and any(c in mode for c in "wax+")) or (flags or 0) & _WRITE:
                _report(event, path)
        elif event in _CHANGES:
            _report(event, args[0] if args else "")

    sys.addaudithook(_hook)
    os.write(2, b"{AUDIT_MARK} active\\n")
    """
)


def image_command() -> tuple[list[str], dict[str, str]]:
    """ENTRYPOINT + CMD and the environment of the final stage, as written in the Dockerfile."""
    final = dockerfile.parse(DOCKERFILE).final
    entrypoint = dockerfile.exec_form(final, "ENTRYPOINT") or []
    command = dockerfile.exec_form(final, "CMD") or []
    return entrypoint + command, dockerfile.stage_environment(final, BASE_IMAGE_ENV)


def localise(value: str) -> str:
    """The image's /opt/venv is this environment (its scripts directory for /opt/venv/bin)."""
    value = value.replace(IMAGE_VENV + "/bin", sysconfig.get_path("scripts"))
    return value.replace(IMAGE_VENV, sys.prefix)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unshare() -> list[str] | None:
    """The unshare prefix when namespaces (and the read-only remount) work here, else None."""
    if sys.platform != "linux" or not os.path.exists("/usr/bin/unshare"):
        return None
    prefix = (
        ["unshare", "--net", "--mount"] if os.geteuid() == 0 else ["unshare", "--map-root-user", "--net", "--mount"]
    )
    probe_dir = Path(tempfile.mkdtemp())
    try:
        done = subprocess.run(
            [*prefix, "--", sys.executable, str(RUNNER), "--probe", str(probe_dir)],
            check=False,
            capture_output=True,
            text=True,
            timeout=20,
        )
        ok = done.returncode == 0 and json.loads(done.stdout or "{}").get("write_probe") == "EROFS"
    except (OSError, subprocess.TimeoutExpired, ValueError):
        ok = False
    finally:
        probe_dir.rmdir()
    return prefix if ok else None


def test_the_image_command_serves_healthz_and_readyz_on_a_read_only_filesystem(tmp_path):
    argv, image_env = image_command()
    assert argv[:2] == ["/opt/venv/bin/kiss-esuite-adapter", "serve"], argv
    port = argv[argv.index("--port") + 1]
    sandbox = unshare()
    sim_port = "8081"
    if sandbox is None:  # the machine's own network: other processes may hold 8080 and 8081
        port, sim_port = str(free_port()), str(free_port())
        argv[argv.index("--port") + 1] = port
    argv = [localise(word) for word in argv]
    audit = tmp_path / "audit"
    audit.mkdir()
    (audit / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    workdir = tmp_path / "workdir"
    workdir.mkdir()

    configuration = {  # what the ConfigMap and Secret would add
        "ESUITE_BASE_URL": f"http://127.0.0.1:{sim_port}/esuite",
        "ESUITE_CLIENT_ID": CLIENT_ID,
        "ESUITE_CLIENT_SECRET": CLIENT_SECRET,
        "CLIENTS__0__ID": "kiss",
        "CLIENTS__0__SECRET": "kiss-secret-0123456789abcdefghijklmnopqrstuvwxyz",
        "CONTACTVERZOEK_TYPES__0": "Terugbelverzoek",
        "INTERNE_TAAK_OBJECT_TYPE_URL": "https://objecttypen.example.org/api/v2/objecttypes/interne-taak",
        "ADAPTER_BASE_URL": f"http://127.0.0.1:{port}",
    }
    env = {name: localise(value) for name, value in image_env.items()}
    env.update(configuration)
    env["PYTHONPATH"] = str(audit)  # the observer only
    simulator_env = {"PATH": env["PATH"], "ESUITE_CLIENT_ID": CLIENT_ID, "ESUITE_CLIENT_SECRET": CLIENT_SECRET}
    spec = {
        "sandbox": sandbox is not None,
        "simulator": {
            "argv": [sys.executable, "-m", "adapter", "simulate", "--port", sim_port, "--base-path", "/esuite"],
            "env": {**simulator_env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            "ready_url": f"http://127.0.0.1:{sim_port}/esuite/contactmomenten-api-provider/api/v1/schema/openapi.yaml",
        },
        "command": {"argv": argv, "env": env, "cwd": str(workdir)},
        "adapter_url": f"http://127.0.0.1:{port}",
    }
    done = subprocess.run(
        [*(sandbox or []), *(["--"] if sandbox else []), sys.executable, str(RUNNER), json.dumps(spec)],
        check=False,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    context = json.dumps(result, indent=2)
    assert "error" not in result, context

    assert result["healthz"] == [200, "Healthy"], context
    status, body = result["readyz"]
    assert status == 200 and json.loads(body)["checks"] == {"esuite": "ok"}, context
    assert result["running_before_sigterm"], context
    assert result["exit_code"] == 0, context  # SIGTERM is a clean stop (operations.md §5.7)

    assert f"{AUDIT_MARK} active" in result["stderr"], context
    writes = [line for line in result["stderr"].splitlines() if line.startswith(f"{AUDIT_MARK} write")]
    assert writes == [], context
    assert list(workdir.iterdir()) == []
    if sandbox is not None:
        assert result["read_only"], context
    else:
        pytest.skip("ran without namespaces: free ports, no read-only remount (audit hook only)")


def test_the_image_entrypoint_runs_other_commands(tmp_path):
    """`docker run IMAGE check-config` replaces CMD and keeps the ENTRYPOINT."""
    _, image_env = image_command()
    final = dockerfile.parse(DOCKERFILE).final
    entrypoint = [localise(word) for word in dockerfile.exec_form(final, "ENTRYPOINT")]
    env = {name: localise(value) for name, value in image_env.items()}
    env.update({"ESUITE_BASE_URL": "not a url"})
    done = subprocess.run(
        [*entrypoint, "check-config"], env=env, cwd=tmp_path, check=False, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ERROR ESUITE_BASE_URL: must be an absolute http or https URL" in done.stdout
    assert "configuration invalid" in done.stdout
