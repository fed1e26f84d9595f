"""Which handler a `GET /api/v2/objects` list is for: interne taken or the smoelenboek (kiss-front.md §5.1)."""

from __future__ import annotations

import enum

from adapter.mapping.common import is_blank
from adapter.mapping.query import Params, first
from adapter.problems import InvalidParam, Problem

OBJECTTYPE_NOT_SERVED = "Dit objecttype wordt niet door de adapter bediend."


class ObjectTypeRoute(enum.Enum):
    INTERNE_TAAK = "interne-taak"
    SMOELENBOEK = "smoelenboek"


def dispatch_object_type(pairs: Params, interne_taak_type: str, smoelenboek_type: str | None) -> ObjectTypeRoute:
    """The handler of `GET /api/v2/objects` from its (first) `type` parameter, compared exactly."""
    object_type = first(pairs, "type")
    if is_blank(object_type):
        raise Problem(
            400,
            "invalid",
            detail="Het objecttype ontbreekt.",
            invalid_params=[InvalidParam("type", "required", "Geef het objecttype op in de parameter type.")],
        )
    if object_type == interne_taak_type:
        return ObjectTypeRoute.INTERNE_TAAK
    if smoelenboek_type is not None and object_type == smoelenboek_type:
        return ObjectTypeRoute.SMOELENBOEK
    # The object type is configuration, not personal data, so the detail may name it (§5.1).
    raise Problem(
        400,
        "objecttype-onbekend",
        detail=f"objecttype onbekend: {object_type}",
        invalid_params=[InvalidParam("type", "invalid_choice", OBJECTTYPE_NOT_SERVED)],
    )
