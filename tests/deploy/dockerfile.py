"""A small Dockerfile reader: stages, instructions, ENV with expansion, exec-form commands.

Enough for this repository's Dockerfile (no heredocs, no parser directives besides `syntax`).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


@dataclass
class Instruction:
    keyword: str  # upper case
    arguments: str  # the rest of the line, continuations joined


@dataclass
class Stage:
    image: str  # after ARG expansion
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)


def instructions(text: str) -> list[Instruction]:
    result: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        line = (pending + stripped).strip()
        pending = ""
        if line:
            keyword, _, arguments = line.partition(" ")
            result.append(Instruction(keyword.upper(), arguments.strip()))
    if pending.strip():
        keyword, _, arguments = pending.strip().partition(" ")
        result.append(Instruction(keyword.upper(), arguments.strip()))
    return result


def expand(value: str, variables: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), value)


def parse(path: Path) -> Dockerfile:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for instruction in instructions(path.read_text(encoding="utf-8")):
        if instruction.keyword == "ARG" and not stages:
            name, _, default = instruction.arguments.partition("=")
            global_args[name.strip()] = default.strip()
        elif instruction.keyword == "FROM":
            words = instruction.arguments.split()
            words = [w for w in words if not w.startswith("--platform=")]
            image = expand(words[0], global_args)
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image, name))
        elif stages:
            stages[-1].instructions.append(instruction)
    return Dockerfile(global_args, stages)


def env_pairs(arguments: str) -> list[tuple[str, str]]:
    """`ENV a=1 b="two words"` (or the legacy `ENV a 1`) as (name, raw value) pairs."""
    words = shlex.split(arguments, posix=True)
    if words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]
    return [tuple(word.split("=", 1)) for word in words]  # type: ignore[misc]


def stage_environment(stage: Stage, base: dict[str, str]) -> dict[str, str]:
    """The environment the stage's last instruction sees, starting from the base image's."""
    environment = dict(base)
    for instruction in stage.all("ENV"):
        for name, value in env_pairs(instruction.arguments):
            environment[name] = expand(value, environment)
    return environment


def exec_form(stage: Stage, keyword: str) -> list[str] | None:
    """The last ENTRYPOINT or CMD of the stage, which must be in exec (JSON) form."""
    found = stage.all(keyword)
    if not found:
        return None
    value = json.loads(found[-1].arguments)
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ValueError(f"{keyword} is not an exec-form JSON array of strings")
    return value
