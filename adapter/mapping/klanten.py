"""Klanten front: PUT as PATCH and the refused contact search (mapping.md §10, kiss-front.md §6.2)."""

from __future__ import annotations

from typing import Any

from adapter.mapping.common import json_object
from adapter.mapping.query import Params
from adapter.problems import InvalidParam, Problem

# The only klant fields KISS edits, all nullable in the e-Suite (K-1).
CONTACTGEGEVENS_FIELDS = ("emailadres", "telefoonnummer", "telefoonnummerAlternatief")
CONTACT_SEARCH_PARAMETERS = frozenset({"emailadres", "telefoonnummer"})
CONTACT_SEARCH_REFUSED = "Zoeken op e-mailadres of telefoonnummer wordt door de e-Suite niet ondersteund."


def klant_put_to_patch(body: Any) -> dict:
    """K-1: the e-Suite has no PUT; send a PATCH with only the writable contact fields."""
    body = json_object(body)
    patch = {field: body[field] for field in CONTACTGEGEVENS_FIELDS if field in body}
    wrong = [field for field, value in patch.items() if value is not None and not isinstance(value, str)]
    if wrong:  # the e-Suite declares these string or null
        raise Problem(
            400,
            "invalid",
            detail="De contactgegevens van de klant zijn niet geldig.",
            invalid_params=[InvalidParam(field, "invalid", "Dit veld moet een tekst of leeg zijn.") for field in wrong],
        )
    if not patch:
        raise Problem(
            400,
            "invalid",
            detail="Er zijn geen contactgegevens om te wijzigen.",
            invalid_params=[
                InvalidParam(
                    "nonFieldErrors",
                    "required",
                    "Geef ten minste één van emailadres, telefoonnummer of telefoonnummerAlternatief op.",
                )
            ],
        )
    return patch


def refuse_contact_search(pairs: Params) -> None:
    """kiss-front.md §6.2: the e-Suite cannot filter klanten on these; dropping the filter
    would return other people's data (SEC-8), so the search is refused."""
    names: list[str] = []
    for name, _ in pairs:
        if name in CONTACT_SEARCH_PARAMETERS and name not in names:
            names.append(name)
    if names:
        raise Problem(
            400,
            "unsupported-filter",
            detail=CONTACT_SEARCH_REFUSED,
            invalid_params=[InvalidParam(name, "unsupported-filter", CONTACT_SEARCH_REFUSED) for name in names],
        )
