"""KISS as a client of the adapter: the calls each KISS generation makes, in its order.

`GENERATIONS` is the version table of kiss-front.md §8 as data: every difference between the
generations that the flows exercise is one field, so a flow is written once and run for each.
`Kiss` replays KISS's calls (browser and BFF) against `Stack.client`; the `shown_*` functions
keep only the fields KISS reads (kiss-front.md §4.2, §5.3), so tests assert what a KCM sees.
"""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx

from tests.conftest import ADAPTER, INTERNE_TAAK_TYPE, OBJECTS_TOKEN, Stack, kiss_headers, load_fixture

CM = f"{ADAPTER}/contactmomenten/api/v1"
KLANTEN = f"{ADAPTER}/klanten/api/v1"
ZAKEN = f"{ADAPTER}/zaken/api/v1"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class Generation:
    """One column of kiss-front.md §8, plus the fixture bodies that generation sends."""

    id: str
    versions: str
    email_soort: str  # digitaleAdressen[].soortDigitaalAdres of an e-mail address (P-8)
    objects_filter: str  # `data_attrs` (Objects API 2.x style) or `data_attr` (3.x style)
    objects_auth: str  # `token` (static Objects token) or `jwt`
    objects_klant_page: bool  # the contactverzoeken-of-a-klant query carries `page=1`
    type_version: int | str  # record.typeVersion of the interne taak POST (T-3)
    afdeling_in_interne_taak: bool  # record.data.verantwoordelijkeAfdeling (May 2024+)
    query_prefix: str  # `?`, or `??` for KISS v1.0+ on contactmomenten reads
    zaakcontactmomenten: bool  # POST /zaken/api/v1/zaakcontactmomenten next to objectcontactmomenten
    zaak_contactmomenten_by: str  # `object-mode` (contactmomenten?object=) or `objectcontactmomenten` + detail each
    objectcontactmomenten_per_contactverzoek: bool  # GET objectcontactmomenten?contactmoment= per contactverzoek
    company_contact_search: bool  # klanten?subjectType=vestiging&telefoonnummer= (refused, §6.2)
    klant_update: str  # `PUT` (K-1) or `PATCH` (pass-through)
    # fixture bodies (fixtures/kiss/<name>.json), adapted to `email_soort`
    plain: str
    cv_klant: str  # contactverzoek in the conversation with a known person (Anna van Dijk)
    cv_anonymous: str  # contactverzoek of an anonymous caller, found back by phone number
    cv_medewerker: str  # contactverzoek for a medewerker
    medewerker_company: tuple[str, str] | None = None  # (subjectIdentificatie key, value) of its company klant

    def __str__(self) -> str:
        return self.id


GENERATIONS = (
    Generation(
        id="feb-may-2024",
        versions="2024-02-26 … May 2024",
        email_soort="e-mailadres",
        objects_filter="data_attrs",
        objects_auth="token",
        objects_klant_page=True,
        type_version=1,
        afdeling_in_interne_taak=False,
        query_prefix="?",
        zaakcontactmomenten=True,
        zaak_contactmomenten_by="object-mode",
        objectcontactmomenten_per_contactverzoek=False,
        company_contact_search=True,
        klant_update="PUT",
        plain="post-contactmoment-plain-early-2024",
        cv_klant="post-contactverzoek-early-2024-afdeling",
        cv_anonymous="post-contactverzoek-early-2024-groep-prefix",
        cv_medewerker="post-contactverzoek-early-2024-medewerker",
    ),
    Generation(
        id="may-2024-v0.5",
        versions="May 2024 … v0.5.2",
        email_soort="e-mailadres",
        objects_filter="data_attrs",
        objects_auth="token",
        objects_klant_page=True,
        type_version="1",
        afdeling_in_interne_taak=True,
        query_prefix="?",
        zaakcontactmomenten=True,
        zaak_contactmomenten_by="object-mode",
        objectcontactmomenten_per_contactverzoek=False,
        company_contact_search=True,
        klant_update="PUT",
        plain="post-contactmoment-plain-v1",
        cv_klant="post-contactverzoek-groep-known-klant-v1",
        cv_anonymous="post-contactverzoek-afdeling-anonymous-v0.6",
        cv_medewerker="post-contactverzoek-medewerker-in-groep-mid-2024",
        medewerker_company=("vestigingsNummer", "000012345678"),
    ),
    Generation(
        id="v0.6-v0.7",
        versions="v0.6.0 … v0.7.1",
        email_soort="email",
        objects_filter="data_attr",
        objects_auth="jwt",
        objects_klant_page=False,
        type_version="1",
        afdeling_in_interne_taak=True,
        query_prefix="?",
        zaakcontactmomenten=True,
        zaak_contactmomenten_by="object-mode",
        objectcontactmomenten_per_contactverzoek=False,
        company_contact_search=True,  # "possible (2024 releases)"
        klant_update="PUT",
        plain="post-contactmoment-plain-v1",
        cv_klant="post-contactverzoek-groep-known-klant-v1",
        cv_anonymous="post-contactverzoek-afdeling-anonymous-v0.6",
        cv_medewerker="post-contactverzoek-medewerker-email-v0.6",
    ),
    Generation(
        id="v1-v3",
        versions="v1.0.0 … v3.0.0",
        email_soort="email",
        objects_filter="data_attr",
        objects_auth="jwt",
        objects_klant_page=False,
        type_version="1",
        afdeling_in_interne_taak=True,
        query_prefix="??",
        zaakcontactmomenten=False,
        zaak_contactmomenten_by="objectcontactmomenten",
        objectcontactmomenten_per_contactverzoek=True,
        company_contact_search=False,
        klant_update="PATCH",
        plain="post-contactmoment-plain-v1",
        cv_klant="post-contactverzoek-groep-known-klant-v1",
        cv_anonymous="post-contactverzoek-afdeling-anonymous-v0.6",
        cv_medewerker="post-contactverzoek-medewerker-in-afdeling-known-klant-v1",
        medewerker_company=("innNnpId", "69599084"),
    ),
)

COMPANY_SEARCH = {  # kiss-front.md §6.2: the look-up KISS makes per kind of company identification
    "vestigingsNummer": ("subjectVestiging__vestigingsNummer", "vestiging"),
    "innNnpId": ("subjectNietNatuurlijkPersoon__innNnpId", "niet_natuurlijk_persoon"),
}


def kiss_body(gen: Generation, fixture: str, *, klant: str | None = None) -> dict:
    """A fixture body as `gen` sends it: its e-mail soort, and `betrokkene.klant` when the
    conversation has a known klant (omitted for an anonymous caller, as KISS does)."""
    body = copy.deepcopy(load_fixture(f"kiss/{fixture}.json"))
    betrokkene = body.get("betrokkene")
    if isinstance(betrokkene, dict):
        for adres in betrokkene.get("digitaleAdressen", []):
            if adres.get("soortDigitaalAdres") in ("email", "e-mailadres"):
                adres["soortDigitaalAdres"] = gen.email_soort
        rest = {key: value for key, value in betrokkene.items() if key not in ("rol", "klant")}
        body["betrokkene"] = {"rol": betrokkene["rol"], **({"klant": klant} if klant else {}), **rest}
    return body


def is_contactverzoek(body: dict) -> bool:
    return body.get("gespreksresultaat") == "Contactverzoek gemaakt"


@dataclass
class SavedVraag:
    """One vraag as KISS saved it: the contactmoment POST and the answers of its parallel batch."""

    body: dict
    created: httpx.Response
    batch: dict[str, list[httpx.Response]] = field(default_factory=dict)
    interne_taak_body: dict | None = None

    @property
    def url(self) -> str:
        return self.created.json()["url"]

    @property
    def uuid(self) -> str:
        return self.url.rsplit("/", 1)[1]


class Kiss:
    """The calls KISS makes, for one generation, against the adapter in `stack`."""

    def __init__(self, stack: Stack, gen: Generation) -> None:
        self.stack, self.gen = stack, gen
        self.client = stack.client

    # -- auth --

    @staticmethod
    def headers() -> dict[str, str]:
        return kiss_headers()

    def objects_headers(self) -> dict[str, str]:
        if self.gen.objects_auth == "token":
            return {"Authorization": f"Token {OBJECTS_TOKEN}"}
        return kiss_headers()

    async def get(self, target: str, *, headers: dict[str, str] | None = None, expect: int = 200) -> Any:
        response = await self.client.get(target, headers=headers or self.headers())
        assert response.status_code == expect, (target, response.status_code, response.text)
        return response.json()

    async def post_json(self, target: str, body: Any, *, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post(
            target,
            content=json.dumps(body).encode(),
            headers={**(headers or self.headers()), "Content-Type": "application/json; charset=utf-8"},
        )

    # -- klanten (kiss-front.md §6.2) --

    async def find_person(self, bsn: str) -> dict | None:
        page = await self.get(f"/klanten/api/v1/klanten?{urlencode({'subjectNatuurlijkPersoon__inpBsn': bsn})}")
        assert page["count"] <= 1 and len(page["results"]) == page["count"]  # KISS needs 0 or 1
        return page["results"][0] if page["results"] else None

    async def find_company(self, kind: str, value: str) -> dict | None:
        name, subject_type = COMPANY_SEARCH[kind]
        page = await self.get(f"/klanten/api/v1/klanten?{urlencode({name: value, 'subjectType': subject_type})}")
        assert page["count"] <= 1 and len(page["results"]) == page["count"]
        return page["results"][0] if page["results"] else None

    async def create_company(self, kind: str, value: str) -> httpx.Response:
        """KISS creates a company it did not find (post-klant-bedrijf-v1.json, per identification)."""
        body = load_fixture("kiss/post-klant-bedrijf-v1.json")
        body["subjectIdentificatie"] = {kind: value}
        body["subjectType"] = COMPANY_SEARCH[kind][1]
        return await self.post_json("/klanten/api/v1/klanten", body)

    async def search_company_by_contact(self, telefoonnummer: str) -> httpx.Response:
        """2024 releases: company search by phone number (refused: the e-Suite cannot filter on it)."""
        query = urlencode({"subjectType": "vestiging", "telefoonnummer": telefoonnummer})
        return await self.client.get(f"/klanten/api/v1/klanten?{query}", headers=self.headers())

    async def change_contactgegevens(self) -> httpx.Response:
        """The KCM changes Anna van Dijk's phone number. 2024 releases PUT the whole klant back
        (put-klant-contactgegevens-2024.json; K-1); later ones PATCH the contact fields."""
        body = load_fixture("kiss/put-klant-contactgegevens-2024.json")
        path = body["url"].removeprefix(ADAPTER)
        if self.gen.klant_update == "PUT":
            return await self.client.put(path, json=body, headers=self.headers())
        changes = {key: body[key] for key in ("emailadres", "telefoonnummer")}
        return await self.client.patch(path, json=changes, headers=self.headers())

    # -- zaken (kiss-front.md §6.3) --

    async def zaken_of_person(self, bsn: str) -> dict:
        query = urlencode({"rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn": bsn, "ordering": "-startdatum"})
        return await self.get(f"/zaken/api/v1/zaken?{query}")

    async def zaak(self, url: str) -> dict:
        return await self.get(url.removeprefix(ADAPTER))

    # -- afhandeling: one vraag (kiss-front.md §4.1, §4.5, §4.6, §5.2, §6.3) --

    async def save_vraag(self, body: dict, *, klanten: tuple[str, ...] = (), zaken: tuple[str, ...] = ()) -> SavedVraag:
        """POST the contactmoment, then the parallel batch: klant links, zaak links (plus
        zaakcontactmomenten up to v0.7.1) and, for a contactverzoek, the interne taak."""
        created = await self.post_json("/contactmomenten/api/v1/contactmomenten", body)
        assert created.status_code == 201, created.text
        saved = SavedVraag(body, created)
        url = saved.url
        batch: list[tuple[str, Any]] = []
        for klant in klanten:
            link = {"klant": klant, "contactmoment": url, "rol": "gesprekspartner"}
            batch.append(("klantcontactmomenten", self.post_json("/contactmomenten/api/v1/klantcontactmomenten", link)))
        for zaak in zaken:
            link = {"contactmoment": url, "object": zaak, "objectType": "zaak"}
            batch.append(
                ("objectcontactmomenten", self.post_json("/contactmomenten/api/v1/objectcontactmomenten", link))
            )
            if self.gen.zaakcontactmomenten:
                old = {"contactmoment": url, "zaak": zaak}
                batch.append(("zaakcontactmomenten", self.post_json("/zaken/api/v1/zaakcontactmomenten", old)))
        if is_contactverzoek(body):
            saved.interne_taak_body = self.interne_taak(body, url)
            batch.append(
                ("objects", self.post_json("/api/v2/objects", saved.interne_taak_body, headers=self.objects_headers()))
            )
        answers = await asyncio.gather(*(call for _, call in batch))
        for (kind, _), answer in zip(batch, answers):
            saved.batch.setdefault(kind, []).append(answer)
        return saved

    def interne_taak(self, body: dict, contactmoment: str) -> dict:
        """The KISS BFF's interne taak (kiss-front.md §5.2; post-interne-taak-2024/-v1.json)."""
        data = (
            {"verantwoordelijkeAfdeling": body.get("verantwoordelijkeAfdeling")}
            if self.gen.afdeling_in_interne_taak
            else {}
        )
        data.update(
            status=body["status"],
            registratiedatum=body["registratiedatum"],
            toelichting=body["toelichting"],
            actor=body["actor"],
            betrokkene=body["betrokkene"],
            contactmoment=contactmoment,
            medewerkerIdentificatie=body["medewerkerIdentificatie"],
        )
        record = {"typeVersion": self.gen.type_version, "startAt": body["registratiedatum"][:10], "data": data}
        return {"type": INTERNE_TAAK_TYPE, "record": record}

    # -- what the KCM sees afterwards (kiss-front.md §4.2, §4.3, §4.6, §5.3) --

    async def contactmomenten_of_klant(self, klant: str) -> dict:
        query = urlencode({"klant": klant, "ordering": "-registratiedatum", "expand": "objectcontactmomenten"})
        return await self.get(f"/contactmomenten/api/v1/contactmomenten{self.gen.query_prefix}{query}")

    async def contactmomenten_of_zaak(self, zaak: str) -> list[dict]:
        """≤ v0.7.1: the adapter's object mode. v1.0+: the zaak's links, then each contactmoment
        read by the last segment of its URL, sorted by KISS itself (newest first)."""
        if self.gen.zaak_contactmomenten_by == "object-mode":
            query = urlencode({"object": zaak, "ordering": "-registratiedatum", "expand": "objectcontactmomenten"})
            page = await self.get(f"/contactmomenten/api/v1/contactmomenten?{query}")
            assert page["count"] == len(page["results"]) and page["next"] is None
            return page["results"]
        links = await self.get(f"/contactmomenten/api/v1/objectcontactmomenten?{urlencode({'object': zaak})}")
        ids = [link["contactmoment"].rsplit("/", 1)[1] for link in links["results"]]
        details = await asyncio.gather(
            *(self.get(f"/contactmomenten/api/v1/contactmomenten/{id_}??expand=objectcontactmomenten") for id_ in ids)
        )
        return sorted(details, key=lambda item: instant(item["registratiedatum"]), reverse=True)

    async def objectcontactmomenten_of(self, contactmoment: str) -> dict:
        """v1.0+: asked for every contactverzoek; KISS needs a pagination object, whatever the status."""
        response = await self.client.get(
            f"/contactmomenten/api/v1/objectcontactmomenten?{urlencode({'contactmoment': contactmoment})}",
            headers=self.headers(),
        )
        return response.json()

    def objects_query(self, expression: str, page: int | None, *, page_first: bool = False) -> str:
        """kiss-front.md §5.3 "How KISS calls it", parameters in KISS's order."""
        paging = [("page", str(page))] if page is not None else []
        data_filter = [(self.gen.objects_filter, expression)]
        parts = [("ordering", "-record__data__registratiedatum"), ("pageSize", "10")]
        parts += paging + data_filter if page_first else data_filter + paging
        return "/api/v2/objects?" + urlencode(parts + [("type", INTERNE_TAAK_TYPE)])

    async def contactverzoeken_of_klant(self, klant: str) -> dict:
        """First page only; 2024 … v0.5.2 ask for `page=1` explicitly."""
        query = self.objects_query(
            f"betrokkene__klant__exact__{klant}", 1 if self.gen.objects_klant_page else None, page_first=True
        )
        return await self.get(query, headers=self.objects_headers())

    async def search_contactverzoeken(self, text: str) -> tuple[list[dict], list[dict]]:
        """The search screen: pages 1, 2, … until `next` is null; then KISS drops, client side,
        every row that has a `betrokkene.klant` (2024 versions: when the key merely exists).
        Returns the rows shown and the pages read."""
        pages: list[dict] = []
        while not pages or pages[-1]["next"] is not None:
            query = self.objects_query(f"betrokkene__digitaleAdressen__icontains__{text}", len(pages) + 1)
            pages.append(await self.get(query, headers=self.objects_headers()))
        rows = [row for page in pages for row in page["results"]]
        return [row for row in rows if "klant" not in row["record"]["data"]["betrokkene"]], pages


# -- what KISS reads ---------------------------------------------------------------------------


def instant(text: str) -> datetime:
    """A registratiedatum as JS `Date` reads it (it must parse)."""
    return datetime.fromisoformat(text)


def amsterdam(text: str) -> str:
    """How the e-Suite prints a registratiedatum it was sent (esuite.md N-16)."""
    return instant(text).astimezone(AMSTERDAM).isoformat(timespec="milliseconds")


def shown_contactmoment(item: dict) -> dict:
    """kiss-front.md §4.2: the fields KISS reads of a contactmoment."""
    medewerker = item.get("medewerkerIdentificatie") or {}
    instant(item["registratiedatum"])
    return {
        "url": item["url"],
        "registratiedatum": item["registratiedatum"],
        "kanaal": item.get("kanaal"),
        "tekst": item.get("tekst"),
        "medewerker": {key: medewerker.get(key) for key in ("voorletters", "voorvoegselAchternaam", "achternaam")},
        "objectcontactmomenten": [
            {key: link[key] for key in ("object", "objectType", "contactmoment")}
            for link in item["objectcontactmomenten"]
        ],
    }


def shown_interne_taak(item: dict) -> dict:
    """kiss-front.md §5.3: the fields KISS reads of an interne taak."""
    data = item["record"]["data"]
    instant(data["registratiedatum"])
    return {
        "url": item["url"],
        "uuid": item["uuid"],
        "registratiedatum": data["registratiedatum"],
        "contactmoment": data["contactmoment"],
        "status": data["status"],
        "actor.naam": data["actor"]["naam"],
        "toelichting": data["toelichting"],
        "betrokkene": data["betrokkene"],
    }
