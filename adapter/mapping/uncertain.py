"""Finding the contact an uncertain create may have made (operations.md §5.4)."""

from __future__ import annotations

from typing import Any

from adapter.mapping.common import parse_datetime
from adapter.mapping.query import Params

SEARCH_PAGES = 3
# The fields of the sent body that the stored contact must repeat (absent equals absent).
_MATCHED_FIELDS = ("status", "type", "tekst", "antwoord", "toelichting", "afdeling", "groep")


def search_query(sent: dict) -> Params | None:
    """The e-Suite list query that can find the contact, or None when no filter can (a plain
    contactmoment, or a contactverzoek without phone number or e-mail address)."""
    contactgegevens = sent.get("contactgegevens")
    if not isinstance(sent.get("type"), str) or not isinstance(contactgegevens, dict):
        return None
    value = contactgegevens.get("telefoonnummer") or contactgegevens.get("emailadres")
    if not isinstance(value, str) or not value:
        return None
    return [("type", sent["type"]), ("telefoonnummerOfEmailadres", value)]


def matches(contact: Any, sent: dict) -> bool:
    if not isinstance(contact, dict):
        return False
    if any(contact.get(field) != sent.get(field) for field in _MATCHED_FIELDS):
        return False
    if _gebruikersnaam(contact) != _gebruikersnaam(sent):
        return False
    if "registratiedatum" in sent:
        sent_at = parse_datetime(sent["registratiedatum"])
        return sent_at is not None and parse_datetime(contact.get("registratiedatum")) == sent_at
    return True


def newest_match(contacts: list[Any], sent: dict) -> dict | None:
    """The newest matching contact (by registratiedatum, then the e-Suite's order)."""
    found = [contact for contact in contacts if matches(contact, sent)]
    if not found:
        return None
    dated = [(parse_datetime(contact.get("registratiedatum")), index, contact) for index, contact in enumerate(found)]
    with_date = [entry for entry in dated if entry[0] is not None]
    if not with_date:
        return found[0]
    return max(with_date, key=lambda entry: (entry[0], -entry[1]))[2]


def _gebruikersnaam(contact: dict) -> Any:
    behandelaar = contact.get("behandelaar")
    return behandelaar.get("gebruikersnaam") if isinstance(behandelaar, dict) else None
