"""Every behaviour citation in the repository resolves to a heading in docs/behaviour/.

The code, the tests and the bench cite the behaviour documents as ``mapping.md §5`` or by a
rule id (``P-9``, ``SEC-6``, or ``test_P9_…`` in a test name). These tests read the citations
from comments, docstrings, ``def``/``class`` names and the non-Python text files under
``adapter/``, ``tests/`` and ``bench/`` (and the qualified ones in ``docs/`` and ``deploy/``),
and fail with one line per citation that names the heading to add and the file to add it
to. Other strings are data, not citations (a zaak numbered `Z-100` in a test body cites
nothing). They also check that every link from
docs/behaviour/ to a repository file exists, that every rule links to the file implementing
it, and that every function or test the documents name still exists.

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
# Operator documents and manifests: their `<doc>.md §N` and rule ids are checked too, but a
# bare `§N` there may be a section of the document itself.
SCANNED_QUALIFIED_ONLY = ("docs", "deploy")
TEXT_SUFFIXES = (".md", ".yaml", ".yml")

PREFIXES = "SEC|RW|V|P|U|R|C|I|Q|T|S|Z|K|E|N"
SECTION_CITE = re.compile(r"\b(kiss-front|mapping|esuite|operations)\.md\s?§\s?(\d+(?:\.\d+)*[a-z]?)")
BARE_SECTION_CITE = re.compile(r"(?<![\w.])§\s?(\d+(?:\.\d+)*[a-z]?)")
RULE_CITE = re.compile(rf"\b({PREFIXES})-(\d+)\b")
EXAMPLE_CITE = re.compile(r"\bW(\d+)\b")
# test_P9_toelichting → P-9; test_RW11 → RW-11; test_C4_C5_R2_W8_… → C-4, C-5, R-2, W8.
NAME_CITE = re.compile(rf"({PREFIXES}|W)(\d+)[a-z]?(?:_|$)")
HEADING = re.compile(r"^#{1,6}\s+(§\d+(?:\.\d+)*[a-z]?|(?:[A-Z]+-\d+)|W\d+)(?=[\s:.,—-]|$)")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")

# Where a rule family lives: (document, the section its headings go under).
_RULE_HOMES = {
    "SEC": ("operations.md", "§8"),
    "RW": ("operations.md", "§7"),
    "E": ("esuite.md", "§3.3"),
    "N": ("esuite.md", "§6"),
    "V": ("mapping.md", "§2.1"),
    "P": ("mapping.md", "§2.2"),
    "U": ("mapping.md", "§2.2"),
    "R": ("mapping.md", "§3"),
    "C": ("mapping.md", "§4"),
    "I": ("mapping.md", "§5"),
    "T": ("mapping.md", "§7"),
    "S": ("mapping.md", "§8"),
    "Z": ("mapping.md", "§9"),
    "K": ("mapping.md", "§10"),
    "W": ("mapping.md", "§11"),
}


def _rule_home(rule_id: str) -> tuple[str, str]:
    """The document and section a rule id belongs in, for the failure message."""
    prefix, number = re.match(r"^([A-Z]+)-?(\d+)$", rule_id).groups()
    if prefix == "Q":
        return ("kiss-front.md", "§3.1") if int(number) < 10 else ("mapping.md", "§6")
    return _RULE_HOMES[prefix]


def _scanned_files(tops: tuple[str, ...] = SCANNED) -> Iterator[Path]:
    for top in tops:
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or DOCS in path.parents:
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
    """(document or '*', heading id) of each citation in one comment, docstring or line.

    A bare `§N` after `<doc>.md §M` in the same text continues that citation
    (`operations.md §5.3, §4.2` cites operations.md §4.2); before any, its document is open.
    """
    qualified = [(m.start(), m.end(), f"{m.group(1)}.md", f"§{m.group(2)}") for m in SECTION_CITE.finditer(text)]
    for _, _, doc, heading in qualified:
        yield doc, heading
    for match in BARE_SECTION_CITE.finditer(text):
        if any(start <= match.start() < end for start, end, _, _ in qualified):
            continue
        earlier = [doc for start, _, doc, _ in qualified if start < match.start()]
        yield (earlier[-1] if earlier else "*"), f"§{match.group(1)}"
    for match in RULE_CITE.finditer(text):
        yield "*", match.group(0)
    for match in EXAMPLE_CITE.finditer(text):
        yield "*", match.group(0)


def _ids_in_test_name(name: str) -> list[str]:
    """The rule ids a test name starts with, after `test_`."""
    ids, position = [], len("test_")
    if not name.startswith("test_"):
        return ids
    while match := NAME_CITE.match(name, position):
        prefix, number = match.groups()
        ids.append(f"W{number}" if prefix == "W" else f"{prefix}-{number}")
        position = match.end()
    return ids


def _citations() -> dict[tuple[str, str], list[str]]:
    """{(document or '*', heading id): ['path:line', …]} of every citation found."""
    found: dict[tuple[str, str], list[str]] = {}

    def add(doc: str, heading: str, where: str) -> None:
        found.setdefault((doc, heading), []).append(where)

    for path in [*_scanned_files(), *_scanned_files(SCANNED_QUALIFIED_ONLY)]:
        if path == Path(__file__).resolve():
            continue  # this file names the patterns, it cites nothing
        relative = path.relative_to(ROOT).as_posix()
        qualified_only = relative.split("/", 1)[0] in SCANNED_QUALIFIED_ONLY
        for line, text in _citable_text(path):
            where = f"{relative}:{line}"
            if text.startswith("\0"):
                for rule_id in _ids_in_test_name(text[1:]):
                    add("*", rule_id, where)
                continue
            for doc, heading in _cites_in_text(text):
                if not (qualified_only and doc == "*" and heading.startswith(("§", "W"))):
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
        where = "the docs/behaviour/ document it cites" if doc == "*" else f"docs/behaviour/{doc}"
        parent = heading.rsplit(".", 1)[0] if "." in heading else None
        under = f", after `## {parent} …`" if parent else ""
        hashes = "#" * (2 + heading.count("."))
        return f"add a heading `{hashes} {heading} <title>` to {where}{under}"
    home, section = _rule_home(heading)
    return (
        f"add a heading `### {heading} <title>` to docs/behaviour/{home} under `## {section} …`, "
        "with the rule, an example and links to its code and tests"
    )


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


NAMED_LINK = re.compile(r"\[`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)`\]\(([^)#\s]+)\)")
TEST_NAME = re.compile(r"`(test_\w+)`")


_DEFINITION = re.compile(r"^\s*(?:async\s+def|def|class)\s+(\w+)|^\s*(\w+)\s*(?::[^=\n]*)?=", re.M)


def _defined_names(path: Path) -> set[str]:
    """Every def, class and assigned name in one Python file."""
    return {a or b for a, b in _DEFINITION.findall(path.read_text(encoding="utf-8"))}


def test_every_named_function_and_test_exists_where_the_documents_say() -> None:
    """A renamed function or test must not leave the documents pointing at nothing."""
    test_names = {
        name for path in (ROOT / "tests").rglob("*.py") for name in _defined_names(path) if name.startswith("test_")
    }
    defined: dict[Path, set[str]] = {}
    stale = []
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for name, target in NAMED_LINK.findall(text):
            file = (path.parent / target).resolve()
            if file.is_file() and file.suffix == ".py":
                names = defined.setdefault(file, _defined_names(file))
                if name.split(".")[-1] not in names:
                    stale.append(f"  docs/behaviour/{path.name}: `{name}` is not defined in {target}")
        for name in sorted(set(TEST_NAME.findall(text)) - test_names):
            stale.append(f"  docs/behaviour/{path.name}: no test named `{name}` under tests/")
    assert not stale, "names in docs/behaviour/ that the code does not have:\n" + "\n".join(stale)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("# kiss-front.md §5.5 and mapping.md § 2", {("kiss-front.md", "§5.5"), ("mapping.md", "§2")}),
        ("# P-9, SEC-12 and W9 (§4.2)", {("*", "P-9"), ("*", "SEC-12"), ("*", "W9"), ("*", "§4.2")}),
        (
            "# operations.md §5.3, §4.2, §3",
            {("operations.md", "§5.3"), ("operations.md", "§4.2"), ("operations.md", "§3")},
        ),
        ("# mapping.md §5–§8, W9", {("mapping.md", "§5"), ("mapping.md", "§8"), ("*", "W9")}),
        ("# not a rule: SP-9, P-9x, 'xP-9'", set()),
    ],
)
def test_citation_patterns(line: str, expected: set[tuple[str, str]]) -> None:
    found = set()
    for _, text in _python_citable_text(line + "\nx = 'P-1 is data, not a citation'\n"):
        found.update(_cites_in_text(text))
    assert found == expected


def test_test_names_cite_rules() -> None:
    assert _ids_in_test_name("test_P9_toelichting") == ["P-9"]
    assert _ids_in_test_name("test_RW11") == ["RW-11"]
    assert _ids_in_test_name("test_SEC3_jwt_only_to_esuite") == ["SEC-3"]
    assert _ids_in_test_name("test_C4_C5_R2_W8_contactmomenten_of_a_klant") == ["C-4", "C-5", "R-2", "W8"]
    assert _ids_in_test_name("test_Pagination") == []
    assert _ids_in_test_name("test_V3b_x") == ["V-3"]
    assert _ids_in_test_name("helper_P9") == []
