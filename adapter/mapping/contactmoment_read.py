"""R-1 … R-6: e-Suite contacts read back as KISS contactmomenten (mapping.md §3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapter.mapping.common import UUID_RE, non_blank_str
from adapter.mapping.url_rewriter import UrlRewriter
from adapter.problems import upstream_invalid_response


def contactmoment_from_esuite(contact: Any, urls: UrlRewriter) -> dict:
    """R-1 … R-3 and R-6 for every contact returned as a contactmoment."""
    return contactmomenten_from_esuite([contact], urls)[0]


def contactmomenten_from_esuite(contacts: list[Any], urls: UrlRewriter) -> list[dict]:
    """R-1 … R-3 and R-6 for a page of contacts; one of them unusable fails the whole page."""
    return urls.json_to_adapter(contacts_for_kiss(contacts, urls))


def contacts_for_kiss(contacts: list[Any], urls: UrlRewriter) -> list[dict]:
    """R-6 and R-2, with R-1 left for the rendering: `urls.rendered(contacts_for_kiss(c))` is
    the text of `contactmomenten_from_esuite(c)`. A mapped page is rewritten once, as text,
    when its whole answer is rendered, instead of rendered, rewritten and parsed back first."""
    base, to_adapter = urls.esuite_base, urls.to_adapter
    mapped = []
    for contact in contacts:
        if not isinstance(contact, dict) or not isinstance(contact.get("url"), str):
            raise upstream_invalid_response()
        antwoord = contact.get("antwoord")
        if isinstance(antwoord, str):
            mapped.append(_antwoord_after_tekst(contact, antwoord, base, to_adapter))
        else:
            mapped.append(contact)
    return mapped


def _antwoord_after_tekst(contact: dict, antwoord: str, base: str, to_adapter: Callable[[str], str]) -> dict:
    """R-2: KISS shows only `tekst`; the e-Suite keeps the question and the answer apart.

    R-1 comes first: both texts are rewritten before they are joined, as they would be in a
    rewritten contact. The contact itself is never changed. Only a text that starts with the
    e-Suite base can be rewritten (RW-3), so the others skip the call (2026-12-02, bench S1's
    50 contacts: 34 → 27 µs; guard: `test_R1_to_adapter_leaves_text_off_the_esuite_base`)."""
    tekst = contact.get("tekst")
    if not isinstance(tekst, str):
        tekst = ""
    elif tekst.startswith(base):
        tekst = to_adapter(tekst)
    result = contact.copy()
    result["tekst"] = tekst + "\n" + (to_adapter(antwoord) if antwoord.startswith(base) else antwoord)
    return result


def created_contactmoment(contact: Any, urls: UrlRewriter, gespreks_id: Any) -> dict:
    """The 201 answer to the POST: R-6 (strict), R-1 … R-3, R-5.

    `gespreks_id` is `b.gespreksId` as KISS sent it. The answer's `url` is also the Location.
    """
    if not isinstance(contact, dict) or esuite_contactmoment_uuid(contact.get("url"), urls) is None:
        raise upstream_invalid_response()
    result = contactmoment_from_esuite(contact, urls)
    if non_blank_str(gespreks_id):
        result["gespreksId"] = gespreks_id
    return result


def esuite_contactmoment_uuid(url: Any, urls: UrlRewriter) -> str | None:
    """The uuid of `{cm root}/contactmomenten/<uuid>` (exactly that), else None.

    The adapter sends its e-Suite token only to URLs of this form (R-6, C-3 step 3).
    """
    prefix = urls.esuite_root("contactmomenten") + "/contactmomenten/"
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    rest = url[len(prefix) :]
    return rest if UUID_RE.fullmatch(rest) else None
