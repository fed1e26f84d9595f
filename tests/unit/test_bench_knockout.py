"""bench/knockout.py, the diagnosis tool: its names, its refusal of unknown ones, and that each
knock-out replaces a function the adapter really has (a renamed method would otherwise be
"knocked out" by adding a new attribute, and the tool would measure nothing). No timings."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench import knockout

# What each knock-out replaces, written out here: the adapter's names as they are today.
REPLACED = {
    "accesslog": [("adapter.kiss_api.access_log", "AccessLog", "_record")],
    "inbound": [
        ("adapter.kiss_api.path_guard", "PathGuard", "__call__"),
        ("adapter.kiss_api.head_limits", "HeadLimits", "__call__"),
        ("adapter.kiss_api.authentication", "Authentication", "__call__"),
    ],
    "problems": [("adapter.kiss_api.problem_rendering", "ProblemRendering", "__call__")],
    "client": [("adapter.esuite_client.client", "EsuiteClient", "send")],
    "record": [("adapter.esuite_client.client", "EsuiteClient", "_record")],
    "bounds": [
        ("adapter.esuite_client.client", None, "answer_json"),
        ("adapter.esuite_client.client", "EsuiteClient", "check_origins"),
    ],
}

_CHECK = """
import importlib, sys
from bench import knockout
name, targets = sys.argv[1], [t.split(":") for t in sys.argv[2:]]
def owner(module, cls):
    found = importlib.import_module(module)
    return found if cls == "-" else getattr(found, cls)
before = []
for module, cls, attr in targets:
    namespace = vars(owner(module, cls))
    assert attr in namespace, f"{module}.{cls}.{attr} is not defined"
    before.append(namespace[attr])
getattr(knockout, "_knock_" + name)()
for (module, cls, attr), old in zip(targets, before):
    assert vars(owner(module, cls))[attr] is not old, f"{module}.{cls}.{attr} was not replaced"
print("replaced", len(targets))
"""


def test_every_knockout_name_has_its_function_and_the_table_names_them_all():
    functions = {name.removeprefix("_knock_") for name in vars(knockout) if name.startswith("_knock_")}
    assert functions == {"accesslog", "inbound", "problems", "client", "record", "bounds"}
    assert set(knockout.KNOCKOUTS) == functions == set(REPLACED)


@pytest.mark.parametrize("name", sorted(REPLACED))
def test_each_knockout_replaces_a_function_the_adapter_defines(name):
    # In a child process: the knock-outs patch classes for good.
    targets = [f"{module}:{cls or '-'}:{attr}" for module, cls, attr in REPLACED[name]]
    done = subprocess.run(
        [sys.executable, "-c", _CHECK, name, *targets], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"replaced {len(targets)}"


@pytest.mark.parametrize("spec", ["nope", "client+nope", "accesslog,al"])
def test_unknown_knockouts_are_refused_before_anything_starts(spec, capsys):
    with pytest.raises(SystemExit) as refused:
        knockout.main(["--knockouts", spec])
    assert refused.value.code == 2
    assert "unknown knock-outs:" in capsys.readouterr().err
