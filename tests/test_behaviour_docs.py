"""Every behaviour citation in the repository resolves to a heading in docs/behaviour/.

The code, the tests and the bench cite the behaviour documents as ``mapping.md §5`` or by a
rule id (``P-9``, ``SEC-6``, or ``test_P9_…`` in a test name). These tests read the citations
from comments, docstrings, ``def``/``class`` names and the non-Python text files under
``adapter/``, ``tests/`` and ``bench/``, and fail with one line per citation that names the
heading to add and the file to add it to. They also check that every link from
docs/behaviour/ to a repository file points to a file that exists.

Heading convention (docs/behaviour/README.md): a section is ``## §5.4 Title`` (any level),
a rule is ``### P-9 Title``, a worked example ``### W9 Title``; the id comes first.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "behaviour"
DOC_NAMES = ("kiss-front.md", "mapping.md", "esuite.md", "operations.md")
SCANNED = ("adapter", "tests", "bench")
TEXT_SUFFIXES = (".md", ".yaml", ".yml")

PREFIXES = "SEC|RW|V|P|U|R|C|I|Q|T|S|Z|K|E|N"
SECTION_CITE = re.compile(r"\b(kiss-front|mapping|esuite|operations)\.md\s?§\s?(\d+(?:\.\d+)*[a-z]?)")
BARE_SECTION_CITE = re.compile(r"(?<![\w.])§\s?(\d+(?:\.\d+)*[a-z]?)")
RULE_CITE = re.compile(rf"\b({PREFIXES})-(\d+)\b")
EXAMPLE_CITE = re.compile(r"\bW(\d+)\b")
# test_P9_toelichting → P-9; test_RW11 → RW-11; test_W9_… → W9.
NAME_CITE = re.compile(rf"^test_({PREFIXES}|W)(\d+)(?:[a-z])?(?:_|$)")
HEADING = re.compile(r"^#{1,6}\s+(§\d+(?:\.\d+)*[a-z]?|(?:[A-Z]+-\d+)|W\d+)(?=[\s:.,—-]|$)")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")

# Test data that only looks like a rule id (zaak and contact identifications in fixtures).
NOT_CITATIONS = {"Z-100", "E-555"}


def _rule_home(rule_id: str) -> str:
    """The document a rule id belongs in, for the failure message."""
    prefix, number = rule_id.split("-")
    if prefix in ("RW", "SEC"):
        return "operations.md"
    if prefix in ("E", "N"):
        return "esuite.md"
    if prefix == "Q" and int(number) < 10:
        return "kiss-front.md"
    return "mapping.md"


def _scanned_files() -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            if path.suffix == ".py" or path.suffix in TEXT_SUFFIXES:
                yield path


def _python_citable_text(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of comments, docstrings and def/class names; other strings are data."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    statement_start = True
    previous_name = ""
    for token in tokens:
        kind, text, (line, _), _, _ = token
        if kind == tokenize.COMMENT:
            yield line, text
            continue
        if kind == tokenize.STRING and statement_start:
            yield line, text  # a string standing alone as a statement: a docstring
        if kind == tokenize.NAME and previous_name in ("def", "class"):
            yield line, "\0" + text  # marks a name for NAME_CITE
        if kind in (tokenize.NL, tokenize.COMMENT):
            continue
        statement_start = kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
        previous_name = text if kind == tokenize.NAME else ""


def _citable_text(path: Path) -> Iterator[tuple[int, str]]:
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        yield from _python_citable_text(source)
    else:
        for number, line in enumerate(source.splitlines(), start=1):
            yield number, line


def _cites_in_text(text: str) -> Iterator[tuple[str, str]]:
    """(document or '*', heading id) of each citation in one comment, docstring or line."""
    qualified_spans = []
    for match in SECTION_CITE.finditer(text):
        qualified_spans.append(match.span())
        yield f"{match.group(1)}.md", f"§{match.group(2)}"
    for match in BARE_SECTION_CITE.finditer(text):
        if not any(start <= match.start() < end for start, end in qualified_spans):
            yield "*", f"§{match.group(1)}"
    for match in RULE_CITE.finditer(text):
        if match.group(0) not in NOT_CITATIONS:
            yield "*", match.group(0)
    for match in EXAMPLE_CITE.finditer(text):
        yield "*", match.group(0)


def _citations() -> dict[tuple[str, str], list[str]]:
    """{(document or '*', heading id): ['path:line', …]} of every citation found."""
    found: dict[tuple[str, str], list[str]] = {}

    def add(doc: str, heading: str, where: str) -> None:
        found.setdefault((doc, heading), []).append(where)

    for path in _scanned_files():
        if path == Path(__file__).resolve():
            continue  # this file names the patterns, it cites nothing
        relative = path.relative_to(ROOT).as_posix()
        for line, text in _citable_text(path):
            where = f"{relative}:{line}"
            if text.startswith("\0"):
                match = NAME_CITE.match(text[1:])
                if match:
                    prefix, number = match.groups()
                    add("*", f"W{number}" if prefix == "W" else f"{prefix}-{number}", where)
                continue
            for doc, heading in _cites_in_text(text):
                add(doc, heading, where)
    return found


def _headings() -> dict[str, list[str]]:
    """{document: [heading id, …]} of docs/behaviour/."""
    headings: dict[str, list[str]] = {}
    for name in DOC_NAMES:
        path = DOCS / name
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        headings[name] = [m.group(1) for m in map(HEADING.match, lines) if m]
    return headings


def _advice(doc: str, heading: str) -> str:
    if heading.startswith("§"):
        if doc == "*":
            return f"add a heading `## {heading} <title>` to the docs/behaviour/ document it cites"
        return f"add a heading `## {heading} <title>` to docs/behaviour/{doc}"
    if heading.startswith("W"):
        return f"add a heading `### {heading} <title>` to docs/behaviour/mapping.md"
    return f"add a heading `### {heading} <title>` to docs/behaviour/{_rule_home(heading)}"


def test_every_cited_section_and_rule_has_a_heading() -> None:
    headings = _headings()
    everywhere = {heading for ids in headings.values() for heading in ids}
    unresolved = []
    for (doc, heading), places in sorted(_citations().items()):
        known = everywhere if doc == "*" else set(headings[doc])
        if heading not in known:
            cited = heading if doc == "*" else f"{doc} {heading}"
            shown = ", ".join(places[:3]) + (f" (+{len(places) - 3} more)" if len(places) > 3 else "")
            unresolved.append(f"  {cited}: {_advice(doc, heading)}  — cited at {shown}")
    assert not unresolved, (
        f"{len(unresolved)} citation(s) do not resolve to a heading in docs/behaviour/ "
        "(see the heading convention in docs/behaviour/README.md):\n" + "\n".join(unresolved)
    )


def test_no_heading_id_is_used_twice_in_a_document() -> None:
    doubles = [
        f"  docs/behaviour/{doc}: {heading}"
        for doc, ids in _headings().items()
        for heading in sorted(set(ids))
        if ids.count(heading) > 1
    ]
    assert not doubles, "heading ids must be unique per document:\n" + "\n".join(doubles)


def test_rule_ids_are_unique_across_documents() -> None:
    seen: dict[str, str] = {}
    doubles = []
    for doc, ids in _headings().items():
        for heading in ids:
            if heading.startswith("§"):
                continue
            if heading in seen and seen[heading] != doc:
                doubles.append(f"  {heading}: in {seen[heading]} and {doc}")
            seen.setdefault(heading, doc)
    assert not doubles, "a rule id lives in one document only:\n" + "\n".join(doubles)


def _repository_links() -> Iterator[tuple[str, str, Path]]:
    for path in sorted(DOCS.glob("*.md")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in LINK.finditer(line):
                target = match.group(1)
                if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                    continue  # an absolute URL or an anchor in the same file
                file_part = target.split("#", 1)[0]
                yield f"docs/behaviour/{path.name}:{number}", target, (path.parent / file_part)


def test_every_link_to_a_repository_file_exists() -> None:
    broken = [
        f"  {where}: {target}"
        for where, target, resolved in _repository_links()
        if not resolved.resolve().exists() or ROOT not in resolved.resolve().parents
    ]
    assert not broken, "links from docs/behaviour/ to files that do not exist:\n" + "\n".join(broken)


def _rule_sections(text: str) -> Iterator[tuple[str, str]]:
    """(rule id, body up to the next heading) for every rule heading of a document."""
    current, body = "", []
    for line in text.splitlines() + ["# end"]:
        if line.startswith("#"):
            if current:
                yield current, "\n".join(body)
            match = HEADING.match(line)
            current = match.group(1) if match and not match.group(1).startswith(("§", "W")) else ""
            body = []
        else:
            body.append(line)


def test_every_rule_links_to_the_file_that_implements_it() -> None:
    missing = []
    for name in DOC_NAMES:
        path = DOCS / name
        if not path.is_file():
            continue
        for rule_id, body in _rule_sections(path.read_text(encoding="utf-8")):
            if not re.search(r"\]\(\.\./\.\./[^)]+\)", body):
                missing.append(f"  docs/behaviour/{name}: {rule_id}")
    assert not missing, "rules without a link to the repository file that implements them:\n" + "\n".join(missing)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("# kiss-front.md §5.5 and mapping.md § 2", {("kiss-front.md", "§5.5"), ("mapping.md", "§2")}),
        ("# P-9, SEC-12 and W9 (§4.2)", {("*", "P-9"), ("*", "SEC-12"), ("*", "W9"), ("*", "§4.2")}),
        ("# not a rule: SP-9, P-9x, 'xP-9'", set()),
    ],
)
def test_citation_patterns(line: str, expected: set[tuple[str, str]]) -> None:
    found = set()
    for _, text in _python_citable_text(line + "\nx = 'P-1 is data, not a citation'\n"):
        found.update(_cites_in_text(text))
    assert found == expected


def test_test_names_cite_rules() -> None:
    assert NAME_CITE.match("test_P9_toelichting").groups() == ("P", "9")
    assert NAME_CITE.match("test_RW11").groups() == ("RW", "11")
    assert NAME_CITE.match("test_SEC3_jwt_only_to_esuite").groups() == ("SEC", "3")
    assert NAME_CITE.match("test_Pagination") is None
    assert NAME_CITE.match("test_V3b_x").groups() == ("V", "3")
