"""constraints.txt: the runtime dependencies of kiss-esuite-adapter, pinned for the image.

The Dockerfile installs exactly the pins of constraints.txt and then the project with
`--no-deps`, so the image gets the versions that were tested, not whatever is newest on the
day of the build. The pins come from the environment this module runs in:

    .venv/bin/python -m tests.deploy.lock --write     # regenerate after a dependency change
    .venv/bin/python -m tests.deploy.lock --check     # exit 1 when constraints.txt is stale

Only the runtime closure is pinned (the `dependencies` of pyproject.toml, then the installed
distributions' requirements recursively, markers evaluated for this interpreter), never the
test extra. The interpreter's minor version is
written in the header, and tests/deploy checks that the Dockerfile's base image has the same.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "kiss-esuite-adapter"
REPO = Path(__file__).resolve().parents[2]
CONSTRAINTS = REPO / "constraints.txt"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def applicable(lines) -> list[Requirement]:
    """The requirements that apply to this interpreter without extras."""
    environment = {**default_environment(), "extra": ""}
    wanted = []
    for line in lines or ():
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            wanted.append(requirement)
    return wanted


def requirements_of(distribution: metadata.Distribution) -> list[Requirement]:
    return applicable(distribution.requires)


def project_requirements() -> list[Requirement]:
    """The runtime `dependencies` of pyproject.toml (the source, not a stale installed copy)."""
    with open(REPO / "pyproject.toml", "rb") as handle:
        return applicable(tomllib.load(handle)["project"]["dependencies"])


def runtime_closure() -> dict[str, str]:
    """canonical name -> installed version, for every runtime dependency of the project."""
    pins: dict[str, str] = {}
    pending = project_requirements()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in pins:
            continue
        distribution = metadata.distribution(requirement.name)
        pins[name] = distribution.version
        pending.extend(requirements_of(distribution))
    return dict(sorted(pins.items()))


def render(pins: dict[str, str]) -> str:
    lines = [
        f"# Runtime dependencies of {PROJECT}, pinned for the container image (Dockerfile).",
        "# Generated from a tested environment by `.venv/bin/python -m tests.deploy.lock --write`;",
        "# do not edit by hand. The test extra is not pinned here.",
        f"# python: {PYTHON}",
    ]
    lines += [f"{name}=={version}" for name, version in pins.items()]
    return "\n".join(lines) + "\n"


def parse(text: str) -> tuple[str | None, dict[str, str]]:
    """(python minor version from the header, canonical name -> pinned version)."""
    python, pins = None, {}
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("# python:"):
            python = line.split(":", 1)[1].strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        if not sep or not version or any(c in version for c in " ;<>=!~*,"):
            raise ValueError(f"not an exact pin: {raw!r}")
        pins[canonicalize_name(name)] = version
    return python, pins


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.deploy.lock", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write constraints.txt")
    mode.add_argument("--check", action="store_true", help="exit 1 when constraints.txt differs")
    args = parser.parse_args(argv)
    text = render(runtime_closure())
    if args.write:
        CONSTRAINTS.write_text(text, encoding="utf-8")
        print(f"wrote {CONSTRAINTS.relative_to(REPO)}")
    elif args.check:
        current = CONSTRAINTS.read_text(encoding="utf-8") if CONSTRAINTS.exists() else ""
        if current != text:
            print("constraints.txt is stale; run: .venv/bin/python -m tests.deploy.lock --write", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
