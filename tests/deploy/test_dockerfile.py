"""Dockerfile and .dockerignore: hadolint, and the image rules of issue 9 read from the file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.deploy import dockerfile
from tests.deploy.conftest import CONSTRAINTS, DOCKERFILE, DOCKERIGNORE, REPO, tool
from tests.deploy.lock import parse as parse_constraints

BUILD_TOOLS = re.compile(r"\b(apt-get|apt|apk|gcc|g\+\+|make|build-essential|pip install|uv pip)\b")


def image() -> dockerfile.Dockerfile:
    return dockerfile.parse(DOCKERFILE)


def test_hadolint_finds_nothing():
    done = subprocess.run(
        [tool("hadolint"), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_does_lint(tmp_path):
    """The linter really runs: it rejects an unpinned base image and a root user."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install httpx\nUSER root\n", encoding="utf-8")
    done = subprocess.run(
        [tool("hadolint"), "--no-color", str(bad)], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "DL3007" in done.stdout and "DL3002" in done.stdout, done.stdout


def test_multi_stage_on_one_slim_python_base_matching_the_constraints():
    parsed = image()
    assert len(parsed.stages) >= 2
    assert parsed.stages[0].name == "build"
    images = {stage.image for stage in parsed.stages}
    assert len(images) == 1, f"build and runtime stages must share the base image (the venv links to it): {images}"
    base = images.pop()
    match = re.fullmatch(r"python:(\d+\.\d+)(?:\.\d+)?-slim(?:-\w+)?(?:@sha256:[0-9a-f]{64})?", base)
    assert match, f"not a pinned slim Python image: {base}"
    python, _ = parse_constraints(CONSTRAINTS.read_text(encoding="utf-8"))
    assert match.group(1) == python, (
        f"constraints.txt was generated for Python {python}, the image has {match.group(1)}"
    )


def test_final_stage_has_no_build_tools_and_takes_only_the_venv_from_the_build():
    final = image().final
    for run in final.all("RUN"):
        assert not BUILD_TOOLS.search(run.arguments), f"build or package tool in the final stage: {run.arguments}"
        assert "pip uninstall" in run.arguments or "pip" not in run.arguments
    copies = final.all("COPY") + final.all("ADD")
    assert copies, "the final stage copies the venv"
    for copy in copies:
        assert copy.keyword == "COPY" and copy.arguments.startswith("--from=build "), copy.arguments
        assert copy.arguments.split()[1:] == ["/opt/venv", "/opt/venv"], copy.arguments


def test_build_stage_installs_exactly_the_constraints_from_wheels():
    runs = " ".join(run.arguments for run in image().stage("build").all("RUN"))
    assert re.search(r"install --no-deps --only-binary=:all: --requirement constraints\.txt", runs), runs
    assert re.search(r"install --no-deps \.(\s|$)", runs), "the project must not pull unpinned dependencies"
    assert " check" in runs, "pip check verifies the pinned set"


def test_runs_as_a_fixed_non_root_user_and_writes_no_bytecode_or_cache():
    final = image().final
    user = final.all("USER")[-1].arguments
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and (not gid or (gid.isdigit() and int(gid) > 0)), user
    env = dockerfile.stage_environment(final, {"PATH": "/usr/bin"})
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"].startswith("/opt/venv/bin:")
    build_env = dockerfile.stage_environment(image().stage("build"), {})
    assert build_env["PIP_NO_CACHE_DIR"] == "1"


def test_serve_on_the_exposed_port_in_exec_form():
    final = image().final
    entrypoint = dockerfile.exec_form(final, "ENTRYPOINT")
    command = dockerfile.exec_form(final, "CMD")
    assert entrypoint == ["/opt/venv/bin/kiss-esuite-adapter"]
    assert command == ["serve", "--host", "0.0.0.0", "--port", "8080"]
    assert [e.arguments for e in final.all("EXPOSE")] == ["8080"]
    assert [s.arguments for s in final.all("STOPSIGNAL")] == ["SIGTERM"]


def test_constraints_pin_tzdata():
    _, pins = parse_constraints(CONSTRAINTS.read_text(encoding="utf-8"))
    assert "tzdata" in pins


# --- .dockerignore ---------------------------------------------------------------------------


def _pattern(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def ignored(path: str, lines: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    decision = False
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = _pattern(line.lstrip("!").strip("/"))
        if any(pattern.match(candidate) for candidate in candidates):
            decision = not negate
    return decision


def test_dockerignore_sends_what_the_dockerfile_copies_and_nothing_else():
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    sources = []
    for copy in image().stage("build").all("COPY"):
        words = [w for w in copy.arguments.split() if not w.startswith("--")]
        sources += words[:-1]
    assert set(sources) == {"constraints.txt", "pyproject.toml", "README.md", "adapter"}
    for source in sources:
        path = REPO / source
        files = (
            [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        )
        assert files, source
        for file in files:
            assert not ignored(file.relative_to(REPO).as_posix(), lines), f"{file} is needed by the build"
    for unwanted in (
        ".git/config",
        ".venv/bin/python",
        ".env",
        "tests/conftest.py",
        "bench/results/latest.json",
        "deploy/kubernetes/base/deployment.yaml",
        "docs/deployment.md",
        "Dockerfile",
        "adapter/__pycache__/app.cpython-311.pyc",
        "kiss_esuite_adapter.egg-info/PKG-INFO",
    ):
        assert ignored(unwanted, lines), f"{unwanted} would be sent to the build"


def test_dockerignore_matcher_follows_docker_rules():
    lines = ["*", "!adapter/", "**/__pycache__"]
    assert ignored("x.txt", lines) and ignored("tests/a.py", lines)
    assert not ignored("adapter/app.py", lines) and not ignored("adapter/sub/x.py", lines)
    assert ignored("adapter/sub/__pycache__/x.pyc", lines)
    assert Path(DOCKERIGNORE).exists()
