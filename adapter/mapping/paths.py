"""SEC-14 and SEC-15 as pure checks on path and URL text: shared by the inbound path guard,
the outbound URL checks and the rules that follow e-Suite links (no I/O, no httpx)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote_to_bytes

_BOUNDARY = ("/", "?", "#")

# SEC-14: a path is decoded at most this often; one still changing after that is refused
# (no real client nests percent-encoding that deep).
MAX_DECODE_ROUNDS = 8


def path_fault(path: str) -> str | None:
    """SEC-14: why `path` (a path, no query) may not be used, or None when it is clean.

    Checked as it is and after every round of percent-decoding until it stops changing, so
    that `%2e%2e`, `.%2e` and `%252e%252e` count as `..` whichever layer (adapter, a proxy, the
    e-Suite) decodes them. A trailing `/` is not an empty segment (routes own `…/contactmomenten/`).
    Escapes that do not decode to UTF-8 are refused too, and non-ASCII text is checked again
    in its NFKC form (a full-width `．` or `／` is an ASCII one to NFKC and Windows' best fit).
    """
    stage = path
    for _ in range(MAX_DECODE_ROUNDS):
        fault = _stage_fault(stage) or (None if stage.isascii() else _compatibility_fault(stage))
        if fault is not None or "%" not in stage:
            return fault
        octets = unquote_to_bytes(stage)
        try:
            # Overlong forms (`%c0%ae` for `.`) are what old decoders took for ASCII.
            text = octets.decode("utf-8")
        except UnicodeDecodeError:
            return "invalid-utf8"
        if not text.isascii() and (fault := _compatibility_fault(text)) is not None:
            return fault
        decoded = octets.decode("latin-1")  # byte for byte: only ASCII is looked for
        if decoded == stage:
            return None
        stage = decoded
    return "nested-encoding"


def _compatibility_fault(text: str) -> str | None:
    normal = unicodedata.normalize("NFKC", text)
    if normal.count("/") != text.count("/") or "\\" in normal:
        return "encoded-separator"
    return _stage_fault(normal)


# IIS's `%uXXXX` (`%u002e` is a `.` there); TAB, CR, LF and the other controls, which a
# decoding proxy would put into its request line.
_IIS_ESCAPE = re.compile(r"%u[0-9a-f]{4}", re.IGNORECASE)
_CONTROL = re.compile(r"[\x01-\x1f\x7f]")
_BLANKS = " \t"


def _stage_fault(path: str) -> str | None:
    if "\x00" in path:
        return "nul"
    if "\\" in path:
        return "backslash"
    if "%" in path:
        lowered = path.lower()
        if "%2f" in lowered or "%5c" in lowered:
            return "encoded-separator"
        if "%u" in lowered and _IIS_ESCAPE.search(path):
            return "invalid-escape"
    if not path:
        return None
    if path[0] != "/":
        return "relative"
    if not path.isprintable() and _CONTROL.search(path):  # `isprintable` first: in C, on every call
        return "control-character"
    # An empty segment other than the last one (a trailing `/`), or one that is empty once a
    # servlet container cuts its path parameters (`/;x/klanten` is `//klanten` to Tomcat).
    if "//" in path or "/;" in path:
        return "empty-segment"
    if "." in path:  # only then can a segment be a dot segment (on every call: kept cheap)
        for segment in path.split("/"):
            # `..;x` is `..` to a servlet container (path parameters are cut before normalising);
            # `...` and `.. ` are `..` to servers that trim trailing dots and blanks (Windows).
            name = segment.split(";", 1)[0].strip(_BLANKS)
            if name and not name.strip("."):
                return "dot-segment"
    return None


def is_under_root(url: str, root: str) -> bool:
    """SEC-15: `url` is `root` itself or continues it with `/`, `?` or `#`, and its path part
    below `root` is clean (SEC-14), so no normalisation anywhere can lead it out of `root`."""
    if not url.startswith(root):
        return False
    rest = url[len(root) :]
    if rest and rest[0] not in _BOUNDARY:
        return False
    if not rest.isprintable() and ("\x00" in rest or _CONTROL.search(rest)):
        return False  # also in the query: httpx refuses such a URL, which is then no client's fault
    return path_fault(rest.partition("?")[0].partition("#")[0]) is None
