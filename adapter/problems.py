"""The one error value of the adapter (ZGW problem+json, operations.md §4).

`Problem` is raised anywhere (mapping, client, routes) and rendered once by
`adapter.kiss_api.responses.problem_response`. It carries no I/O and no submitted values.
"""

from __future__ import annotations

import attrs

TITLES: dict[str, str] = {
    "invalid": "Ongeldige invoer.",
    "parse_error": "Ongeldige invoer.",
    "unknown-parameters": "Ongeldige invoer.",
    "unsupported-filter": "Ongeldige invoer.",
    "unsupported-filter-combination": "Ongeldige invoer.",
    "objecttype-onbekend": "Ongeldige invoer.",
    "not_authenticated": "Authenticatiegegevens zijn niet opgegeven.",
    "not_found": "Niet gevonden.",
    "method_not_allowed": "Methode niet toegestaan.",
    "request-too-large": "Verzoek te groot.",
    "request-header-too-large": "Verzoekkop te groot.",
    "downloads-busy": "Er lopen te veel downloads tegelijk.",
    "uploads-busy": "Er lopen te veel uploads tegelijk.",
    "request-timeout": "Verzoek niet op tijd ontvangen.",
    "internal": "Interne fout.",
    "upstream-unavailable": "De e-Suite is niet bereikbaar.",
    "upstream-error": "De e-Suite gaf een fout.",
    "upstream-invalid-response": "De e-Suite gaf een onbruikbaar antwoord.",
    "upstream-invalid-url": "De e-Suite gaf een onbruikbaar antwoord.",
    "upstream-unauthorized": "De adapter kon zich niet aanmelden bij de e-Suite.",
    "smoelenboek-unauthorized": "De adapter kon zich niet aanmelden bij het smoelenboek.",
    "smoelenboek-unavailable": "Het smoelenboek is niet bereikbaar.",
    "smoelenboek-error": "Het smoelenboek gaf een fout.",
    "upstream-circuit-open": "De e-Suite is tijdelijk niet beschikbaar.",
    "idempotency-store-unavailable": "Dubbele registraties kunnen nu niet worden uitgesloten.",
    "upstream-timeout": "De e-Suite antwoordde niet op tijd.",
    "shutting-down": "De adapter wordt gestopt.",
}
AUTH_FAILURE_TITLE = "Geen toegang."

# Titles of statuses the code table does not name (§4.2), for translated upstream errors.
STATUS_TITLES: dict[int, str] = {
    400: "Ongeldige invoer.",
    401: "Authenticatiegegevens zijn niet opgegeven.",
    403: "Geen toegang.",
    404: "Niet gevonden.",
    405: "Methode niet toegestaan.",
    409: "Conflict.",
    410: "Niet meer beschikbaar.",
    412: "Voorwaarde niet vervuld.",
    413: "Verzoek te groot.",
    415: "Mediatype niet ondersteund.",
    422: "Onverwerkbare invoer.",
    429: "Te veel verzoeken.",
}


@attrs.frozen
class InvalidParam:
    name: str
    code: str
    reason: str


@attrs.define(auto_exc=True, eq=False)
class Problem(Exception):
    """An answer the client gets as problem+json. `title` defaults from the code."""

    status: int
    code: str
    detail: str | None = None
    title: str | None = None
    invalid_params: list[InvalidParam] | None = None
    headers: dict[str, str] = attrs.field(factory=dict)

    def resolved_title(self) -> str:
        if self.title:
            return self.title
        if self.code in TITLES:
            return TITLES[self.code]
        if self.status == 403:
            return AUTH_FAILURE_TITLE
        return STATUS_TITLES.get(self.status, "Fout.")

    def to_body(self, instance: str) -> dict:
        title = self.resolved_title()
        body = {
            "type": f"urn:kiss-esuite-adapter:fout:{self.code}",
            "code": self.code,
            "title": title,
            "status": self.status,
            "detail": self.detail or title,
            "instance": instance,
        }
        if self.status == 400:
            body["invalidParams"] = [attrs.asdict(p) for p in (self.invalid_params or [])]
        return body


def invalid(detail: str, params: list[InvalidParam], code: str = "invalid") -> Problem:
    return Problem(400, code, detail=detail, invalid_params=params)


def upstream_invalid_response(detail: str | None = None) -> Problem:
    return Problem(502, "upstream-invalid-response", detail=detail)


def upstream_invalid_url() -> Problem:
    return Problem(502, "upstream-invalid-url")
