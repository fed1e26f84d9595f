"""T-1 … T-5: the POST of an interne taak, checked and answered locally (mapping.md §7).

Answered locally: nothing is stored or sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from adapter.mapping.common import OBJECTS_PATH, is_blank, is_uuid, json_object, parse_json_body
from adapter.mapping.objects_dispatch import OBJECTTYPE_NOT_SERVED
from adapter.problems import InvalidParam, Problem

CONTACTMOMENT_INVALID_DETAIL = "contactmoment ontbreekt of is niet valide"
INTERNE_TAAK_INVALID_DETAIL = "Het interne-taakobject is ongeldig."
TYPE_VERSION_MAX = 32767


@attrs.frozen(slots=True)
class InterneTaakAnswer:
    uuid: str
    url: str
    """`{A}/api/v2/objects/{uuid}` — also the `Location` header."""
    body: dict
    """T-5: the request body unchanged, with `url` and `uuid` replaced in place or appended."""


def interne_taak_post_answer(
    body_raw: bytes,
    object_type: str,
    adapter_bases: Sequence[str],
    esuite_cm_root: str,
    adapter_base: str,
) -> InterneTaakAnswer:
    """T-1 … T-5. `adapter_bases`: `{A}` and the request's own origin; `esuite_cm_root`:
    `{E}/contactmomenten-api-provider/api/v1`. Every T-2 … T-4 failure is reported at once."""
    body = json_object(parse_json_body(body_raw))
    failures = _type_failures(body.get("type"), object_type)
    record = body.get("record")
    uuid = None
    if not isinstance(record, dict):
        # Its children cannot be checked; reporting them too would only repeat this entry.
        failures.append(InvalidParam("record", "invalid", "record moet een object zijn."))
    else:
        if not _is_type_version(record.get("typeVersion")):
            failures.append(
                InvalidParam(
                    "record.typeVersion",
                    "invalid",
                    f"typeVersion moet een geheel getal van 0 tot en met {TYPE_VERSION_MAX} zijn.",
                )
            )
        data = record.get("data")
        contactmoment = data.get("contactmoment") if isinstance(data, dict) else None
        uuid = _contactmoment_uuid(contactmoment, adapter_bases, esuite_cm_root)
        if uuid is None:
            failures.append(
                InvalidParam(
                    "record.data.contactmoment",
                    "invalid",
                    "Het contactmoment moet de URL van een contactmoment van de adapter zijn.",
                )
            )
    if failures or uuid is None:  # uuid is None only with a failure reported
        contactmoment_failed = any(failure.name == "record.data.contactmoment" for failure in failures)
        raise Problem(
            400,
            "invalid",
            detail=CONTACTMOMENT_INVALID_DETAIL if contactmoment_failed else INTERNE_TAAK_INVALID_DETAIL,
            invalid_params=failures,
        )
    url = f"{adapter_base}{OBJECTS_PATH}/{uuid}"
    answer = dict(body)
    answer["url"] = url
    answer["uuid"] = uuid
    return InterneTaakAnswer(uuid=uuid, url=url, body=answer)


def _type_failures(submitted: Any, object_type: str) -> list[InvalidParam]:
    """T-2 (and kiss-front.md §5.1 for POST)."""
    if is_blank(submitted):
        return [InvalidParam("type", "required", "Het objecttype ontbreekt.")]
    if submitted != object_type:
        return [InvalidParam("type", "invalid_choice", OBJECTTYPE_NOT_SERVED)]
    return []


def _is_type_version(value: Any) -> bool:
    """T-3: KISS sends the integer 1 until May 2024 and the string "1" after."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= TYPE_VERSION_MAX
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 5
        and value.isascii()
        and value.isdigit()
        and int(value) <= TYPE_VERSION_MAX
    )


def _contactmoment_uuid(contactmoment: Any, adapter_bases: Sequence[str], esuite_cm_root: str) -> str | None:
    """T-4: the lower-cased uuid of an adapter or e-Suite contactmoment URL, else None."""
    if not isinstance(contactmoment, str):
        return None
    prefixes = [f"{base}/contactmomenten/api/v1/contactmomenten/" for base in adapter_bases]
    prefixes.append(f"{esuite_cm_root}/contactmomenten/")
    for prefix in prefixes:
        if contactmoment.startswith(prefix):
            rest = contactmoment[len(prefix) :]
            candidate = rest[:-1] if rest.endswith("/") else rest
            if is_uuid(candidate):
                return candidate.lower()
    return None
