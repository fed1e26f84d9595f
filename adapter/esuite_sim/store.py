"""In-memory state and business rules of the e-Suite simulator (esuite.md §3, §4, §8.3 – §8.6).

Everything here is synchronous and free of HTTP: handlers in ``app.py`` call the ``Store``
methods and turn a ``SimError`` (errors.py) into an e-Suite error body. Error details name
fields, never submitted values. The records and their printed form are in records.py, the body
checks in validation.py, date parsing and printing in dates.py.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from adapter.esuite_sim import seed as seeddata
from adapter.esuite_sim.dates import AMSTERDAM, format_amsterdam, now_parts, parse_datetime
from adapter.esuite_sim.errors import SimError, invalid, not_found
from adapter.esuite_sim.records import CONTACT_KEYS, Contact, Klant, Link, Roots, VoorlopigAntwoord, Zaak
from adapter.esuite_sim.validation import (
    CM_OBJECTS,
    STATUSES,
    check_contact_fields,
    check_contact_shape,
    is_blank,
)


def _filled(value: Any, roots: Roots) -> Any:
    """A seed value with the `{cm}`, `{zrc}`, … placeholders of its strings filled in."""
    if isinstance(value, str):
        return roots.fill(value)
    if isinstance(value, dict):
        return {k: _filled(v, roots) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, roots) for v in value]
    return value


def _zaak_field(field: str) -> Callable[[Zaak], str]:
    """A sort key: the zaak's `field`, "" when absent."""
    return lambda zaak: zaak.data.get(field) or ""


class Store:
    """All simulator state. ``reset()`` returns to the seed state and empties the request log."""

    def __init__(
        self,
        *,
        roots: Roots,
        bronorganisatie: str,
        seed: bool,
        id_seed: int | None,
        clock: Callable[[], datetime],
        oldest_first: bool = False,
    ) -> None:
        self.roots, self.bronorganisatie, self.seed, self.id_seed, self.clock = (
            roots,
            bronorganisatie,
            seed,
            id_seed,
            clock,
        )
        self.oldest_first = oldest_first  # list contacts oldest first, as the one real e-Suite sample
        self.kanalen = frozenset(seeddata.KANALEN)
        self.types = frozenset(seeddata.CONTACT_TYPES)
        self.afdelingen = frozenset(seeddata.AFDELINGEN)
        self.groepen = frozenset(seeddata.GROEPEN)
        self.reset()

    # -- lifecycle --

    def reset(self) -> None:
        self.contacts: dict[str, Contact] = {}
        self.klanten: dict[str, Klant] = {}
        self.klantcontactmomenten: dict[str, Link] = {}
        self.objectcontactmomenten: dict[str, Link] = {}
        self.zaken: dict[str, Zaak] = {}
        self.zaak_resources: dict[str, dict[str, dict[str, Any]]] = {}  # kind -> uuid -> object
        self.requests: list[dict[str, Any]] = []
        # Reproducible ids for tests, not secrets.
        self._ids = random.Random(self.id_seed) if self.id_seed is not None else None  # noqa: S311
        self._seq = 0
        self._counters: dict[int, int] = {}
        if self.seed:
            self._load_seed()

    def _load_seed(self) -> None:
        pinned = datetime(2025, 1, 1, tzinfo=UTC)
        for rank, raw in enumerate(seeddata.CONTACTS):
            parsed = parse_datetime(raw["registratiedatum"])
            if parsed is None:  # the seed's dates are fixed and valid
                raise ValueError("unparseable registratiedatum in the seed")
            instant, frac = parsed
            # copies of the nested dicts: a contact's changes never reach the seed
            fields: dict[str, Any] = {
                k: dict(v) if isinstance(v, dict) else v for k, v in raw.items() if k in CONTACT_KEYS
            }
            self.contacts[raw["uuid"]] = Contact(
                uuid=raw["uuid"],
                identificatie=raw["identificatie"],
                instant=instant,
                frac=frac,
                sort_at=pinned - timedelta(minutes=rank),
                seq=self._next_seq(),
                voorlopige=[self._va(**va) for va in raw.get("voorlopigeAntwoorden", ())],
                allowed_users=raw.get("allowed_users"),
                extra=dict(raw.get("extra", {})),
                **fields,
            )
        for klant in seeddata.KLANTEN:
            self.klanten[klant["uuid"]] = Klant(
                names=dict(seeddata.EXTERNAL_REGISTER[(klant["id_kind"], klant["id_value"])]), **klant
            )
        for links, rows in (
            (self.klantcontactmomenten, seeddata.KLANTCONTACTMOMENTEN),
            (self.objectcontactmomenten, seeddata.OBJECTCONTACTMOMENTEN),
        ):
            for link_uuid, contact_uuid, target in rows:
                links[link_uuid] = Link(
                    link_uuid, self.contact_url(contact_uuid), self.roots.fill(target), self._next_seq()
                )
        for zaak in seeddata.ZAKEN:
            data = {k: self.roots.fill(v) if isinstance(v, str) else v for k, v in zaak["data"].items()}
            self.zaken[zaak["uuid"]] = Zaak(zaak["uuid"], data, tuple(zaak["bsns"]))
        self._load_zaak_resources()

    def _load_zaak_resources(self) -> None:
        """The catalogi, zaak and document objects KISS reads to open the seeded zaak."""
        kinds = {
            "zaaktypen": seeddata.ZAAKTYPEN,
            "statustypen": seeddata.STATUSTYPEN,
            "statussen": seeddata.STATUSSEN,
            "rollen": seeddata.ROLLEN,
            "zaakinformatieobjecten": seeddata.ZAAKINFORMATIEOBJECTEN,
            "enkelvoudiginformatieobjecten": seeddata.ENKELVOUDIGINFORMATIEOBJECTEN,
        }
        for kind, rows in kinds.items():
            objects = self.zaak_resources.setdefault(kind, {})
            for raw in rows:
                data = _filled(raw, self.roots)
                objects[data["url"].rsplit("/", 1)[1]] = data
        for document in self.zaak_resources["enkelvoudiginformatieobjecten"].values():
            document["bestandsomvang"] = len(self.document_content())

    def document_content(self) -> bytes:
        return seeddata.pdf_document(seeddata.DOCUMENT_TEXT)

    def zaak_resource(self, kind: str, resource_uuid: str) -> dict[str, Any]:
        found = self.zaak_resources.get(kind, {}).get(resource_uuid)
        if found is None:
            raise not_found("Resource niet gevonden.")
        return dict(found)

    def zaak_resources_of(self, kind: str, query: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """`rollen` / `zaakinformatieobjecten` filtered on `zaak` (exact URL), in seed order."""
        items = list(self.zaak_resources.get(kind, {}).values())
        for value in (v for k, v in query if k == "zaak"):
            items = [item for item in items if item.get("zaak") == value]
        return [dict(item) for item in items]

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def new_uuid(self) -> str:
        if self._ids is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def now(self) -> tuple[datetime, str]:
        return now_parts(self.clock())

    # -- users and URLs --

    def user(self, name: str) -> tuple[str, str, str] | None:
        """(volledige naam, e-mail, afdeling) of a user named by gebruikersnaam or e-mail address."""
        if name in seeddata.USERS:
            return seeddata.USERS[name]
        return next((u for u in seeddata.USERS.values() if u[1].lower() == name.lower()), None)

    def contact_url(self, contact_uuid: str) -> str:
        return f"{self.roots.cm}/contactmomenten/{contact_uuid}"

    def klant_url(self, klant_uuid: str) -> str:
        return f"{self.roots.kc}/klanten/{klant_uuid}"

    def render_contact(self, contact: Contact, *, with_history: bool) -> dict[str, Any]:
        return contact.to_json(self.contact_url(contact.uuid), self.bronorganisatie, with_history=with_history)

    def render_klant(self, klant: Klant) -> dict[str, Any]:
        return klant.to_json(self.klant_url(klant.uuid), self.bronorganisatie)

    def render_link(self, link: Link, kind: str) -> dict[str, Any]:
        if kind == "klantcontactmomenten":
            return {
                "url": f"{self.roots.cm}/klantcontactmomenten/{link.uuid}",
                "contactmoment": link.contactmoment,
                "klant": link.target,
                "rol": "gesprekspartner",
            }
        return {
            "url": f"{self.roots.cm}/objectcontactmomenten/{link.uuid}",
            "contactmoment": link.contactmoment,
            "object": link.target,
            "objectType": "zaak",
        }

    def render_zaak(self, zaak: Zaak) -> dict[str, Any]:
        return dict(zaak.data)

    # -- contactmomenten --

    def get_contact(self, contact_uuid: str, user_id: str | None) -> Contact:
        contact = self.contacts.get(contact_uuid)
        if contact is None:
            raise not_found("Contact niet gevonden.")
        if contact.allowed_users is not None and user_id not in contact.allowed_users:
            raise SimError(403, "NOT_AUTHORISED", "Gebruiker heeft geen rechten op dit contact.")
        return contact

    def list_contacts(self, query: list[tuple[str, str]]) -> list[Contact]:
        params: dict[str, list[str]] = {}
        for name, value in query:
            params.setdefault(name, []).append(value)
        items: Iterable[Contact] = self.contacts.values()
        if "klant" in params:
            wanted = set(params["klant"])
            linked = {link.contactmoment for link in self.klantcontactmomenten.values() if link.target in wanted}
            items = [c for c in items if self.contact_url(c.uuid) in linked]
        if "identificatie" in params:
            items = [c for c in items if c.identificatie in params["identificatie"]]
        for needle in params.get("telefoonnummerOfEmailadres", []):
            needle = needle.lower()
            items = [c for c in items if any(needle in (v or "").lower() for v in (c.contactgegevens or {}).values())]
        types = [t for t in params.get("type", []) if t]
        if types:
            items = [c for c in items if c.type in types]
        if self.oldest_first:
            return sorted(items, key=lambda c: (c.instant, c.seq))
        return sorted(items, key=lambda c: (c.sort_at, c.seq), reverse=True)

    def create_contact(self, body: Any) -> Contact:
        check_contact_shape(body)
        status = body.get("status", "nieuw")
        if status not in STATUSES:
            raise invalid("Veld 'status' heeft geen geldige waarde.")
        if "registratiedatum" in body:
            parsed = parse_datetime(body["registratiedatum"])
            if parsed is None:
                raise invalid("Veld 'registratiedatum' is geen geldige datum-tijd.")
            instant, frac = parsed
        else:
            instant, frac = self.now()
        gegevens = body.get("contactgegevens", {})
        check_contact_fields(gegevens, "contactgegevens.")
        afdeling, groep = body.get("afdeling"), body.get("groep")
        onderwerp = body.get("onderwerp")
        if onderwerp is not None:
            prefix, unit = onderwerp[:4], onderwerp[4:]
            if prefix not in ("afd:", "grp:"):
                raise invalid("Veld 'onderwerp' moet beginnen met 'afd:' of 'grp:'.")
            if prefix == "afd:" and afdeling is None:
                afdeling = unit
            if prefix == "grp:" and groep is None:
                groep = unit
        # E-5: names of existing records
        for label, value, known in (
            ("Kanaal", body.get("kanaal"), self.kanalen),
            ("Type", body.get("type"), self.types),
            ("Afdeling", afdeling, self.afdelingen),
            ("Groep", groep, self.groepen),
        ):
            if value is not None and value not in known:
                raise invalid(f"{label} bestaat niet.")
        people: dict[str, dict[str, str]] = {}
        for name, key, full in (
            ("behandelaar", "gebruikersnaam", "volledigeNaam"),
            ("medewerkerIdentificatie", "identificatie", "achternaam"),
        ):
            if name in body:
                user = self.user(body[name][key])
                if user is None:
                    raise invalid(f"Gebruiker in '{name}.{key}' bestaat niet.")
                people[name] = {key: body[name][key], full: user[0]}
        # E-3 on the requested status; E-4: a verzoek without any actor is stored as afgehandeld
        if status == "afgehandeld":
            for name in ("behandelaar", "toelichting"):
                if name in body:
                    raise invalid(f"Een contact met status 'afgehandeld' mag geen '{name}' hebben.")
        elif "behandelaar" not in people and afdeling is None and groep is None:
            status = "afgehandeld"
        if status == "afgehandeld" and is_blank(body.get("antwoord")):
            raise invalid("Een contact met status 'afgehandeld' moet een 'antwoord' hebben.")

        contact = Contact(
            uuid=self.new_uuid(),
            identificatie=self._next_identificatie(),
            instant=instant,
            frac=frac,
            tekst=body["tekst"],
            status=status,
            sort_at=instant,
            seq=self._next_seq(),
            kanaal=body.get("kanaal"),
            type=body.get("type"),
            onderwerp=f"grp:{groep}" if groep is not None else f"afd:{afdeling}" if afdeling is not None else None,
            antwoord=body.get("antwoord"),
            toelichting=body.get("toelichting"),
            behandelaar=people.get("behandelaar"),
            afdeling=afdeling,
            groep=groep,
            contactgegevens={k: gegevens[k] for k in CM_OBJECTS["contactgegevens"] if k in gegevens} or None,
            medewerkerIdentificatie=people.get("medewerkerIdentificatie"),
        )
        self.contacts[contact.uuid] = contact
        return contact

    def _next_identificatie(self) -> str:
        """``<n>-<year>``, ``n`` counting up per year (after the highest seeded one)."""
        year = self.now()[0].astimezone(AMSTERDAM).year
        if year not in self._counters:
            numbers = [
                int(n)
                for n, _, y in (c.identificatie.partition("-") for c in self.contacts.values())
                if y == str(year) and n.isdigit()
            ]
            self._counters[year] = max(numbers, default=0)
        self._counters[year] += 1
        return f"{self._counters[year]:04d}-{year}"

    # -- _sim hooks --

    def add_voorlopig_antwoord(self, contact_uuid: str, body: Any) -> VoorlopigAntwoord:
        contact = self.contacts.get(contact_uuid)
        if contact is None:
            raise not_found("Contact niet gevonden.")
        if not isinstance(body, dict) or not isinstance(body.get("antwoord"), str) or is_blank(body["antwoord"]):
            raise invalid("Veld 'antwoord' is verplicht.")
        name = body.get("gebruikersnaam")
        user = self.user(name) if isinstance(name, str) else None
        if user is None:
            raise invalid("Gebruiker in 'gebruikersnaam' bestaat niet.")
        if body.get("registratiedatum") is not None:
            if not isinstance(body["registratiedatum"], str) or parse_datetime(body["registratiedatum"]) is None:
                raise invalid("Veld 'registratiedatum' is geen geldige datum-tijd.")
            text = body["registratiedatum"]
        else:
            text = format_amsterdam(*self.now())
        va = self._va(
            antwoord=body["antwoord"],
            registratiedatum=text,
            gebruikersnaam=name,
            volledigeNaam=user[0],
            afdeling=user[2],
        )
        contact.voorlopige.append(va)
        return va

    def set_status(self, contact_uuid: str, body: Any) -> Contact:
        contact = self.contacts.get(contact_uuid)
        if contact is None:
            raise not_found("Contact niet gevonden.")
        if not isinstance(body, dict) or body.get("status") not in STATUSES:
            raise invalid("Veld 'status' heeft geen geldige waarde.")
        antwoord = body.get("antwoord", contact.antwoord)
        if antwoord is not None and not isinstance(antwoord, str):
            raise invalid("Veld 'antwoord' moet een tekst zijn.")
        if body["status"] == "afgehandeld" and is_blank(antwoord):
            raise invalid("Een contact met status 'afgehandeld' moet een 'antwoord' hebben.")
        behandelaar = contact.behandelaar
        if "behandelaar" in body:
            raw = body["behandelaar"]
            name = raw.get("gebruikersnaam") if isinstance(raw, dict) else raw
            if name is None:
                behandelaar = None
            else:
                user = self.user(name) if isinstance(name, str) else None
                if user is None:
                    raise invalid("Gebruiker in 'behandelaar' bestaat niet.")
                behandelaar = {"gebruikersnaam": name, "volledigeNaam": user[0]}
        contact.status, contact.antwoord, contact.behandelaar = body["status"], antwoord, behandelaar
        return contact

    def _va(self, **fields: Any) -> VoorlopigAntwoord:
        instant, _ = parse_datetime(fields["registratiedatum"])  # type: ignore[misc]
        return VoorlopigAntwoord(instant=instant, **fields)

    # -- klantcontactmomenten / objectcontactmomenten --

    def _link_contact(self, body: dict[str, Any]) -> str:
        url = body.get("contactmoment")
        if not isinstance(url, str) or not url:
            raise invalid("Veld 'contactmoment' is verplicht.")
        prefix = f"{self.roots.cm}/contactmomenten/"
        if not url.startswith(prefix) or url[len(prefix) :] not in self.contacts:
            raise invalid("Veld 'contactmoment' verwijst niet naar een bestaand contact.")
        return url

    def create_link(self, kind: str, body: Any) -> Link:
        if not isinstance(body, dict):
            raise invalid("De request body moet een JSON-object zijn.")
        if kind == "klantcontactmomenten":
            target = body.get("klant")
            if not isinstance(target, str) or not target:
                raise invalid("Veld 'klant' is verplicht.")
            prefix = f"{self.roots.kc}/klanten/"
            if not target.startswith(prefix) or target[len(prefix) :] not in self.klanten:
                raise invalid("Veld 'klant' verwijst niet naar een bestaande klant.")
        else:
            target = body.get("object")
            if not isinstance(target, str) or not target:
                raise invalid("Veld 'object' is verplicht.")
            if not target.startswith(f"{self.roots.zrc}/"):
                raise invalid("Veld 'object' verwijst niet naar een zaak.")
            if body.get("objectType", "zaak") != "zaak":
                raise invalid("Veld 'objectType' heeft geen geldige waarde.")
        contactmoment = self._link_contact(body)
        links = getattr(self, kind)
        if any(link.contactmoment == contactmoment and link.target == target for link in links.values()):
            raise SimError(409, "CONFLICT", "Koppeling bestaat al.")
        link = Link(self.new_uuid(), contactmoment, target, self._next_seq())
        links[link.uuid] = link
        return link

    def list_links(self, kind: str, query: list[tuple[str, str]], *, strict: bool) -> list[Link]:
        target_name = "klant" if kind == "klantcontactmomenten" else "object"
        filters = {
            "contactmoment": [v for k, v in query if k == "contactmoment"],
            target_name: [v for k, v in query if k == target_name],
        }
        if strict and kind == "klantcontactmomenten" and not filters["klant"]:
            raise invalid("Parameter 'klant' is verplicht.")
        items = list(getattr(self, kind).values())
        for value in filters["contactmoment"]:
            items = [link for link in items if link.contactmoment == value]
        for value in filters[target_name]:
            items = [link for link in items if link.target == value]
        return sorted(items, key=lambda link: link.seq, reverse=True)

    # -- klanten --

    def list_klanten(self, query: list[tuple[str, str]]) -> list[Klant]:
        filters = {
            "subjectNatuurlijkPersoon__inpBsn": "inpBsn",
            "subjectNietNatuurlijkPersoon__innNnpId": "innNnpId",
            "subjectVestiging__vestigingsNummer": "vestigingsNummer",
        }
        given = [(filters[k], v) for k, v in query if k in filters and v]
        if len({kind for kind, _ in given}) != 1 or len(given) != 1:
            raise invalid(
                "Precies één van de parameters subjectNatuurlijkPersoon__inpBsn, "
                "subjectNietNatuurlijkPersoon__innNnpId en subjectVestiging__vestigingsNummer "
                "moet gevuld zijn."
            )
        kind, value = given[0]
        return [k for k in self.klanten.values() if k.id_kind == kind and k.id_value == value]

    def get_klant(self, klant_uuid: str) -> Klant:
        klant = self.klanten.get(klant_uuid)
        if klant is None:
            raise not_found("Klant niet gevonden.")
        return klant

    def create_klant(self, body: Any) -> Klant:
        if not isinstance(body, dict):
            raise invalid("De request body moet een JSON-object zijn.")
        ident = body.get("subjectIdentificatie")
        if not isinstance(ident, dict):
            raise invalid("Veld 'subjectIdentificatie' is verplicht.")
        given = [(kind, ident[kind]) for kind in Klant.SUBJECT_TYPES if ident.get(kind) not in (None, "")]
        if len(given) != 1:
            raise invalid(
                "Precies één van 'subjectIdentificatie.inpBsn', '.innNnpId' en '.vestigingsNummer' moet gevuld zijn."
            )
        kind, value = given[0]
        length = {"inpBsn": 9, "innNnpId": 8, "vestigingsNummer": 12}[kind]
        if not isinstance(value, str) or len(value) != length:
            raise invalid(f"Veld 'subjectIdentificatie.{kind}' moet {length} tekens lang zijn.")
        check_contact_fields(body, klant=True)
        names = seeddata.EXTERNAL_REGISTER.get((kind, value))
        if names is None:
            raise not_found("Persoon of bedrijf niet gevonden in het externe register.")
        if any(k.id_kind == kind and k.id_value == value for k in self.klanten.values()):
            raise SimError(409, "CONFLICT", "Klant bestaat al.")
        number = max((int(k.klantnummer) for k in self.klanten.values()), default=10000000) + 1
        klant = Klant(
            uuid=self.new_uuid(),
            klantnummer=f"{number:08d}",
            id_kind=kind,
            id_value=value,
            names=dict(names),
            emailadres=body.get("emailadres"),
            telefoonnummer=body.get("telefoonnummer"),
            telefoonnummerAlternatief=body.get("telefoonnummerAlternatief"),
        )
        self.klanten[klant.uuid] = klant
        return klant

    def patch_klant(self, klant_uuid: str, body: Any) -> Klant:
        klant = self.get_klant(klant_uuid)
        if not isinstance(body, dict):
            raise invalid("De request body moet een JSON-object zijn.")
        fields = ("emailadres", "telefoonnummer", "telefoonnummerAlternatief")
        merged = {name: body[name] if name in body else getattr(klant, name) for name in fields}
        check_contact_fields(merged, klant=True)
        for name in fields:
            setattr(klant, name, merged[name])
        return klant

    # -- zaken --

    def list_zaken(self, query: list[tuple[str, str]]) -> list[Zaak]:
        items = list(self.zaken.values())
        for name, value in query:
            if name == "identificatie":
                items = [z for z in items if z.data.get("identificatie") == value]
            elif name == "rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn":
                items = [z for z in items if value in z.bsns]
        orderings = [part for name, value in query if name == "ordering" for part in value.split(",") if part]
        items.sort(
            key=lambda z: (z.data.get("registratiedatum") or "", z.data.get("identificatie") or ""), reverse=True
        )
        for part in reversed(orderings):
            field, _, direction = part.rpartition("_")
            if field not in ("startdatum", "registratiedatum", "identificatie") or direction not in (
                "oplopend",
                "aflopend",
            ):
                raise invalid("Parameter 'ordering' heeft geen geldige waarde.")
            items.sort(key=_zaak_field(field), reverse=direction == "aflopend")
        return items

    def get_zaak(self, zaak_uuid: str) -> Zaak:
        zaak = self.zaken.get(zaak_uuid)
        if zaak is None:
            raise not_found("Zaak niet gevonden.")
        return zaak

    # -- test hook --

    def dump(self) -> dict[str, Any]:
        return {
            "contacts": [
                dict(
                    self.render_contact(c, with_history=True),
                    **({"_allowedUsers": list(c.allowed_users)} if c.allowed_users is not None else {}),
                )
                for c in self.list_contacts([])
            ],
            "klantcontactmomenten": [
                self.render_link(link, "klantcontactmomenten")
                for link in self.list_links("klantcontactmomenten", [], strict=False)
            ],
            "objectcontactmomenten": [
                self.render_link(link, "objectcontactmomenten")
                for link in self.list_links("objectcontactmomenten", [], strict=False)
            ],
            "klanten": [self.render_klant(k) for k in self.klanten.values()],
            "zaken": [self.render_zaak(z) for z in self.zaken.values()],
            "requests": self.requests,
        }
