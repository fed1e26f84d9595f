"""What the simulated e-Suite refuses in a POST or PATCH body (esuite.md §8.3, E-8)."""

from __future__ import annotations

import re
from typing import Any

from adapter.esuite_sim.errors import invalid

STATUSES = ("nieuw", "in_behandeling", "afgehandeld")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# Writable properties of POST /contactmomenten (contract 1.7.0): name -> maxLength (None: none).
_CM_FIELDS: dict[str, int | None] = {
    "registratiedatum": None,
    "kanaal": 255,
    "type": 255,
    "onderwerp": 255,
    "tekst": None,
    "antwoord": None,
    "status": None,
    "toelichting": None,
    "afdeling": 128,
    "groep": 128,
}
CM_OBJECTS: dict[str, dict[str, int | None]] = {
    "behandelaar": {"gebruikersnaam": 128},
    "contactgegevens": {"emailadres": None, "telefoonnummer": None, "telefoonnummerAlternatief": None},
    "medewerkerIdentificatie": {"identificatie": 128},
}
_CM_REQUIRED = {"behandelaar": "gebruikersnaam", "medewerkerIdentificatie": "identificatie"}


def _check_strings(obj: dict[str, Any], spec: dict[str, int | None], prefix: str = "") -> None:
    for name, max_length in spec.items():
        if name not in obj:
            continue
        value = obj[name]
        if not isinstance(value, str):
            raise invalid(f"Veld '{prefix}{name}' moet een tekst zijn.")
        if max_length is not None and len(value) > max_length:
            raise invalid(f"Veld '{prefix}{name}' is langer dan {max_length} tekens.")


def check_contact_shape(body: Any) -> None:
    """Contract checks of POST /contactmomenten: writable properties only (strict, a simulator
    decision, §8.3), types, required fields and maxLength."""
    if not isinstance(body, dict):
        raise invalid("De request body moet een JSON-object zijn.")
    for name in body:
        if name not in _CM_FIELDS and name not in CM_OBJECTS:
            raise invalid(f"Veld '{name[:100]}' is onbekend of niet schrijfbaar.")
    for name, spec in CM_OBJECTS.items():
        if name not in body:
            continue
        if not isinstance(body[name], dict):
            raise invalid(f"Veld '{name}' moet een object zijn.")
        for sub in body[name]:
            if sub not in spec:
                raise invalid(f"Veld '{name}.{sub[:100]}' is onbekend of niet schrijfbaar.")
    _check_strings(body, _CM_FIELDS)
    if "tekst" not in body:
        raise invalid("Veld 'tekst' is verplicht.")
    for name, spec in CM_OBJECTS.items():
        if name in body:
            required = _CM_REQUIRED.get(name)
            if required and required not in body[name]:
                raise invalid(f"Veld '{name}.{required}' is verplicht.")
            _check_strings(body[name], spec, f"{name}.")


def check_contact_fields(obj: dict[str, Any], prefix: str = "", *, klant: bool = False) -> None:
    """emailadres / telefoonnummer / telefoonnummerAlternatief: type, e-mail format, E-8.

    Klant fields are nullable, and there an empty string counts as empty (K-1 passes values as sent).
    """
    for name in ("emailadres", "telefoonnummer", "telefoonnummerAlternatief"):
        value = obj.get(name)
        if name in obj and not isinstance(value, str) and not (klant and value is None):
            raise invalid(f"Veld '{prefix}{name}' moet een tekst zijn.")
    email = obj.get("emailadres")
    if email is not None and not (klant and email == "") and not _EMAIL.fullmatch(email):
        raise invalid(f"Veld '{prefix}emailadres' is geen geldig e-mailadres.")
    if not is_blank(obj.get("telefoonnummerAlternatief")) and is_blank(obj.get("telefoonnummer")):
        raise invalid(f"Veld '{prefix}telefoonnummerAlternatief' vereist '{prefix}telefoonnummer'.")


def is_blank(value: str | None) -> bool:
    return value is None or not value.strip()
