"""Q-10 … Q-14: KISS's Objects query of interne taken as an e-Suite contactmomenten query (mapping.md §6).

With the `ordering` and `pageSize` checks of kiss-front.md §5.3. Nothing here needs the
e-Suite, so a refused query never reaches it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from adapter.mapping.common import is_blank
from adapter.mapping.query import Params, page_number, unknown_parameters, values
from adapter.mapping.url_rewriter import UrlRewriter
from adapter.problems import InvalidParam, Problem

INTERNE_TAKEN_PARAMETERS = frozenset({"type", "data_attrs", "data_attr", "ordering", "page", "pageSize"})
ORDERINGS = {"record__data__registratiedatum": False, "-record__data__registratiedatum": True}
PAGE_SIZE_MAX = 500
OBJECTS_OPERATORS = frozenset({"exact", "icontains", "gt", "gte", "lt", "lte", "in"})
_ATTRIBUTE_SEGMENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@attrs.frozen(slots=True)
class SupportedFilter:
    """Q-11: one supported filter expression prefix and the e-Suite parameter it becomes."""

    prefix: str
    esuite_parameter: str
    rewrite_to_esuite: bool

    @property
    def description(self) -> str:
        """`'<attribute path>' met operator '<operator>'` — never the value."""
        path, _, operator = self.prefix.removesuffix("__").rpartition("__")
        return f"'{path}' met operator '{operator}'"


KLANT_PARAMETER = "klant"
# In Q-14 order.
SUPPORTED_FILTERS = (
    SupportedFilter("betrokkene__klant__exact__", KLANT_PARAMETER, rewrite_to_esuite=True),
    SupportedFilter("betrokkene__digitaleAdressen__icontains__", "telefoonnummerOfEmailadres", rewrite_to_esuite=False),
)


@attrs.frozen(slots=True)
class InterneTakenQuery:
    upstream: Params
    """Q-14: the e-Suite `contactmomenten` query (encode with Q-5)."""
    klant_filter: str | None
    """The klant filter value exactly as KISS sent it (decoded); K of I-8 step 1."""
    descending: bool | None
    """`ordering`: True newest first, False oldest first, None keep the e-Suite's order."""


@attrs.frozen(slots=True)
class _Expression:
    parameter: str  # `data_attr` or `data_attrs`, as the client used it
    text: str


def parse_interne_taken_query(
    pairs: Params, contactverzoek_types: Sequence[str], urls: UrlRewriter
) -> InterneTakenQuery:
    """Q-6, Q-4, `ordering`/`pageSize` of kiss-front.md §5.3, then Q-10 … Q-14.

    Checked in that order; the first failing rule raises, with every entry of that rule.
    Nothing here needs the e-Suite, so a refused query never reaches it.
    """
    unknown_parameters(pairs, INTERNE_TAKEN_PARAMETERS)
    page = page_number(pairs)
    descending = _ordering_and_page_size(pairs)
    filters = _filters(pairs)
    upstream: Params = [("type", contactverzoek_type) for contactverzoek_type in contactverzoek_types]
    for supported in SUPPORTED_FILTERS:
        value = filters.get(supported.esuite_parameter)
        if value is not None:
            sent = urls.to_esuite(value) if supported.rewrite_to_esuite else value
            upstream.append((supported.esuite_parameter, sent))
    if page is not None:
        upstream.append(("page", str(page)))
    klant_filter = filters.get(KLANT_PARAMETER)
    return InterneTakenQuery(upstream=upstream, klant_filter=klant_filter, descending=descending)


def _ordering_and_page_size(pairs: Params) -> bool | None:
    """`ordering` (global across the e-Suite's pages, C-5) and `pageSize` (accepted, not forwarded) of §5.3."""
    failures: list[InvalidParam] = []
    orderings = values(pairs, "ordering")
    if any(ordering not in ORDERINGS for ordering in orderings):
        failures.append(
            InvalidParam(
                "ordering",
                "invalid",
                "Sorteren kan alleen op record__data__registratiedatum, oplopend of aflopend (-).",
            )
        )
    elif len(set(orderings)) > 1:
        failures.append(InvalidParam("ordering", "invalid", "De sortering is meer dan eens verschillend opgegeven."))
    if any(not _is_page_size(page_size) for page_size in values(pairs, "pageSize")):
        failures.append(
            InvalidParam(
                "pageSize", "invalid", f"pageSize moet een geheel getal van 1 tot en met {PAGE_SIZE_MAX} zijn."
            )
        )
    if failures:
        raise Problem(400, "invalid", detail="Ongeldige query-parameters.", invalid_params=failures)
    return ORDERINGS[orderings[0]] if orderings else None


def _is_page_size(raw: str) -> bool:
    return raw.isascii() and raw.isdigit() and 1 <= int(raw) <= PAGE_SIZE_MAX


def _expressions(pairs: Params) -> list[_Expression]:
    """Q-10: `data_attrs` split on `,`, each `data_attr` whole, empty ones skipped, in order."""
    expressions: list[_Expression] = []
    for name, value in pairs:
        parts = value.split(",") if name == "data_attrs" else [value] if name == "data_attr" else []
        expressions.extend(_Expression(name, part) for part in parts if part)
    return expressions


def _supported_filter(expression: str) -> SupportedFilter | None:
    for supported in SUPPORTED_FILTERS:
        if expression.startswith(supported.prefix):
            return supported
    return None


def _filters(pairs: Params) -> dict[str, str]:
    """Q-11 … Q-13: e-Suite parameter → value as KISS sent it."""
    checked: list[tuple[_Expression, SupportedFilter]] = []
    unsupported: list[InvalidParam] = []
    for expression in _expressions(pairs):
        supported = _supported_filter(expression.text)
        if supported is None:
            unsupported.append(
                InvalidParam(expression.parameter, "unsupported-filter", _unsupported_reason(expression.text))
            )
        else:
            checked.append((expression, supported))
    if unsupported:
        raise Problem(
            400,
            "unsupported-filter",
            detail="Dit filter wordt door de adapter niet ondersteund.",
            invalid_params=unsupported,
        )

    blank: list[InvalidParam] = []
    chosen: dict[str, str] = {}
    conflicting: list[InvalidParam] = []
    for expression, supported in checked:
        value = expression.text[len(supported.prefix) :]
        if is_blank(value):
            blank.append(
                InvalidParam(
                    expression.parameter, "invalid", f"Het filter op {supported.description} heeft geen waarde."
                )
            )
        elif chosen.setdefault(supported.esuite_parameter, value) != value:
            conflicting.append(
                InvalidParam(
                    expression.parameter,
                    "unsupported-filter",
                    f"Het filter op {supported.description} is meer dan eens met verschillende "
                    "waarden opgegeven; de e-Suite accepteert één waarde.",
                )
            )
    if blank:
        raise Problem(400, "invalid", detail="Een filter heeft geen waarde.", invalid_params=blank)
    if conflicting:
        raise Problem(
            400,
            "unsupported-filter",
            detail="Een filter is meer dan eens met verschillende waarden opgegeven.",
            invalid_params=conflicting,
        )
    return chosen


def _unsupported_reason(expression: str) -> str:
    """Q-11: names the attribute path and operator when they are recognisable, never the value."""
    segments = expression.split("__")
    for index, segment in enumerate(segments):
        if segment in OBJECTS_OPERATORS:
            path = segments[:index]
            if path and all(_ATTRIBUTE_SEGMENT.match(part) for part in path):
                return f"Filteren op '{'__'.join(path)}' met operator '{segment}' wordt niet ondersteund."
            break
    return (
        "Dit filter wordt niet ondersteund; alleen betrokkene__klant__exact en "
        "betrokkene__digitaleAdressen__icontains zijn mogelijk."
    )
