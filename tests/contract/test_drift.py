"""Our contracts against the official specifications, where both describe the same resource.

For every field we serve (contracts/kiss-front.openapi.yaml) or send and read
(contracts/esuite.openapi.yaml) that the official resource also has, the JSON types must agree,
down through nested objects and array items. A field the official resource does not have must be
a documented deviation: listed in KISS_FRONT_DEVIATIONS below (with its reason), or marked
`x-not-in-public-contract` in esuite.openapi.yaml. So drift shows on either side: a changed type
in our contract, a field we add without saying why, or a new version of an official spec.

The official files are not part of this repository: KISS_ADAPTER_SPECS_DIR names the folder that
holds them (.ci/run sets it when they are available). Without the variable the whole module is
skipped with one reason; with it set to a folder that is missing, the module fails.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.contract_validation import ESUITE, KISS_FRONT

SPECS_ENV = "KISS_ADAPTER_SPECS_DIR"
if not os.environ.get(SPECS_ENV):
    pytest.skip(f"{SPECS_ENV} not set: no folder with the official OpenAPI documents", allow_module_level=True)
SPECS = Path(os.environ[SPECS_ENV])
if not SPECS.is_dir():
    pytest.fail(f"{SPECS_ENV}={SPECS} is not a folder", pytrace=False)

# Fields of ours the official resource lacks or types differently, and why (contracts/README.md).
KISS_FRONT_DEVIATIONS = {
    # e-Suite fields passed on as received (mapping.md R-3) and the KISS echo
    **{
        f"Contactmoment.{name}": "e-Suite field passed on (R-3)"
        for name in (
            "identificatie",
            "type",
            "onderwerp",
            "antwoord",
            "status",
            "toelichting",
            "behandelaar",
            "afdeling",
            "groep",
            "contactgegevens",
            "recentsteVoorlopigAntwoord",
            "voorlopigeAntwoorden",
        )
    },
    "Contactmoment.gespreksId": "KISS's own id echoed on the POST answer (R-5)",
    "Contactmoment.objectcontactmomenten[]": "objects with expand (C-4, OK1 AFWIJKING), else as the e-Suite sent them",
    "Contactmoment.klantcontactmomenten[]": "objects with expand (C-4, OK1 AFWIJKING), else as the e-Suite sent them",
    "InterneTaakCreate.record.typeVersion": 'KISS sends the string "1" since May 2024; echoed as sent (T-3, T-5)',
}

KISS_FRONT_PAIRS = [
    # (our schema, official file, how to find the official schema)
    ("Contactmoment", "open-klant-1.0.0-contactmomenten", "#/components/schemas/ContactMoment"),
    ("Medewerker", "open-klant-1.0.0-contactmomenten", "#/components/schemas/Medewerker"),
    ("KlantContactMoment", "open-klant-1.0.0-contactmomenten", "#/components/schemas/KlantContactMoment"),
    ("KlantContactMomentCreate", "open-klant-1.0.0-contactmomenten", "#/components/schemas/KlantContactMoment"),
    ("ObjectContactMoment", "open-klant-1.0.0-contactmomenten", "#/components/schemas/ObjectContactMoment"),
    ("ObjectContactMomentCreate", "open-klant-1.0.0-contactmomenten", "#/components/schemas/ObjectContactMoment"),
    ("Problem", "open-klant-1.0.0-contactmomenten", "#/components/schemas/Fout"),
    ("ValidationProblem", "open-klant-1.0.0-contactmomenten", "#/components/schemas/ValidatieFout"),
    ("FieldValidationError", "open-klant-1.0.0-contactmomenten", "#/components/schemas/FieldValidationError"),
    ("ContactmomentPage", "open-klant-1.0.0-contactmomenten", "GET /contactmomenten 200"),
    ("KlantContactMomentPage", "open-klant-1.0.0-contactmomenten", "GET /klantcontactmomenten 200"),
    ("ObjectContactMomentPage", "open-klant-1.0.0-contactmomenten", "GET /objectcontactmomenten 200"),
    *[
        (ours, spec, official)
        for spec in ("objects-api-2.4.0.v2", "objects-api-3.5.0.v2")
        for ours, official in (
            ("InterneTaak", "#/components/schemas/Object"),
            ("InterneTaakRecord", "#/components/schemas/ObjectRecord"),
            ("InterneTaakPage", "#/components/schemas/PaginatedObjectList"),
            ("InterneTaakCreate", "#/components/schemas/Object"),
            ("InterneTaakCreated", "#/components/schemas/Object"),
            ("SmoelenboekObject", "#/components/schemas/Object"),
            ("SmoelenboekPage", "#/components/schemas/PaginatedObjectList"),
        )
    ],
]

ESUITE_CM = "esuite-contactmomenten-api-provider-1.7.0"
ESUITE_KC = "esuite-klanten-api-provider-1.3.0"
ESUITE_PAIRS = [
    ("ContactCreate", ESUITE_CM, "#/components/schemas/Contactmoment"),
    ("Contactmoment", ESUITE_CM, "#/components/schemas/Contactmoment"),
    ("VoorlopigAntwoord", ESUITE_CM, "#/components/schemas/VoorlopigAntwoord"),
    ("ContactmomentResults", ESUITE_CM, "#/components/schemas/ContactmomentResults"),
    ("Klantcontactmoment", ESUITE_CM, "#/components/schemas/Klantcontactmoment"),
    ("KlantcontactmomentCreate", ESUITE_CM, "#/components/schemas/Klantcontactmoment"),
    ("KlantcontactmomentResults", ESUITE_CM, "#/components/schemas/KlantcontactmomentResults"),
    ("Objectcontactmoment", ESUITE_CM, "#/components/schemas/Objectcontactmoment"),
    ("ObjectcontactmomentCreate", ESUITE_CM, "#/components/schemas/Objectcontactmoment"),
    ("ObjectcontactmomentResults", ESUITE_CM, "#/components/schemas/ObjectcontactmomentResults"),
    ("Fout", ESUITE_CM, "#/components/schemas/Fout"),
    ("Klant", ESUITE_KC, "#/components/schemas/Klant"),
    ("KlantPatch", ESUITE_KC, "#/components/schemas/Klant"),
    ("KlantResults", ESUITE_KC, "#/components/schemas/KlantResults"),
    ("Fout", ESUITE_KC, "#/components/schemas/Fout"),
]

# (our path, the official file, the official path relative to its server)
ESUITE_OPERATION_PAIRS = [
    ("/contactmomenten-api-provider/api/v1/contactmomenten", ESUITE_CM, "/contactmomenten"),
    ("/contactmomenten-api-provider/api/v1/contactmomenten/{uuid}", ESUITE_CM, "/contactmomenten/{uuid}"),
    ("/contactmomenten-api-provider/api/v1/klantcontactmomenten", ESUITE_CM, "/klantcontactmomenten"),
    ("/contactmomenten-api-provider/api/v1/objectcontactmomenten", ESUITE_CM, "/objectcontactmomenten"),
    ("/klanten-api-provider/api/v1/klanten", ESUITE_KC, "/klanten"),
    ("/klanten-api-provider/api/v1/klanten/{uuid}", ESUITE_KC, "/klanten/{uuid}"),
]


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (a safe loader)


def _official(name: str) -> dict[str, Any]:
    return _load(SPECS / f"{name}.openapi.yaml")


def _ref(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _find(spec: dict[str, Any], where: str) -> dict[str, Any]:
    if where.startswith("#/"):
        return _ref(spec, {"$ref": where})
    method, path, status = where.split()
    response = _ref(spec, spec["paths"][path][method.lower()]["responses"][status])
    return _ref(spec, response["content"]["application/json"]["schema"])


def _flatten(spec: dict[str, Any], schema: Any) -> dict[str, Any]:
    """$ref resolved and allOf merged; anyOf/oneOf alternatives gathered under `alternatives`."""
    schema = _ref(spec, schema) or {}
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k not in ("allOf", "anyOf", "oneOf")}
    for part in schema.get("allOf", []):
        part = _flatten(spec, part)
        merged.setdefault("properties", {}).update(part.get("properties", {}))
        merged.setdefault("type", part.get("type"))
        for key in ("items", "alternatives"):
            if key in part:
                merged.setdefault(key, part[key])
    alternatives = [_flatten(spec, alt) for alt in schema.get("anyOf", []) + schema.get("oneOf", [])]
    if alternatives:
        merged["alternatives"] = alternatives
    return merged


def _types(schema: dict[str, Any]) -> set[str]:
    if "alternatives" in schema and "type" not in schema:
        return set().union(*(_types(alt) for alt in schema["alternatives"]))
    if "type" in schema and schema["type"] is not None:
        return {schema["type"]}
    if "properties" in schema:
        return {"object"}
    return set()  # no type: anything


def _compare(
    ours_spec: dict,
    ours: Any,
    official_spec: dict,
    official: Any,
    where: str,
    allowed: dict[str, str],
    out: list[str],
    key: str | None = None,
) -> None:
    """`where` is the full path for messages; `key` is relative to the nearest named schema of ours
    (what KISS_FRONT_DEVIATIONS lists)."""
    key = key or where
    if isinstance(ours, dict) and ours.get("$ref", "").startswith("#/components/schemas/"):
        key = ours["$ref"].rsplit("/", 1)[1]
    ours, official = _flatten(ours_spec, ours), _flatten(official_spec, official)
    ours_types, official_types = _types(ours), _types(official)
    if key in allowed:
        return
    if official_types and ours_types and not ours_types <= official_types:
        out.append(f"{where}: ours {sorted(ours_types)}, official {sorted(official_types)}")
        return
    ours_properties = _object_properties(ours)
    official_properties = _object_properties(official)
    if ours_properties and (official_properties or "object" in official_types):
        for name, prop in ours_properties.items():
            prop_resolved = _ref(ours_spec, prop)
            if name not in official_properties:
                if f"{key}.{name}" not in allowed and not prop_resolved.get("x-not-in-public-contract"):
                    if official_properties:  # an official object without properties takes anything
                        out.append(f"{where}.{name}: not in the official resource and not a documented deviation")
                continue
            _compare(
                ours_spec,
                prop,
                official_spec,
                official_properties[name],
                f"{where}.{name}",
                allowed,
                out,
                f"{key}.{name}",
            )
    if "array" in ours_types and "array" in official_types and "items" in ours and "items" in official:
        _compare(ours_spec, ours["items"], official_spec, official["items"], where + "[]", allowed, out, key + "[]")


def _object_properties(schema: dict[str, Any]) -> dict[str, Any]:
    properties = dict(schema.get("properties", {}))
    for alternative in schema.get("alternatives", []):
        for name, prop in alternative.get("properties", {}).items():
            properties.setdefault(name, prop)
    return properties


def _drift(contract: Path, pairs: list, allowed: dict[str, str]) -> list[str]:
    ours_spec = _load(contract)
    out: list[str] = []
    for ours_name, official_name, where in pairs:
        official_spec = _official(official_name)
        _compare(
            ours_spec,
            ours_spec["components"]["schemas"][ours_name],
            official_spec,
            _find(official_spec, where),
            ours_name,
            allowed,
            out,
        )
    return out


def test_kiss_front_agrees_with_open_klant_1_and_the_objects_api():
    assert _drift(KISS_FRONT, KISS_FRONT_PAIRS, KISS_FRONT_DEVIATIONS) == []


def test_esuite_contract_agrees_with_the_public_esuite_contracts():
    assert _drift(ESUITE, ESUITE_PAIRS, {}) == []


def test_esuite_query_parameters_are_the_public_ones_or_documented():
    ours_spec = _load(ESUITE)
    out = []
    for ours_path, official_name, official_path in ESUITE_OPERATION_PAIRS:
        official_spec = _official(official_name)
        official_item = official_spec["paths"][official_path]
        for method, operation in ours_spec["paths"][ours_path].items():
            if method == "parameters":
                continue
            official_operation = official_item.get(method)
            if official_operation is None:
                out.append(f"{method.upper()} {official_path}: not in {official_name}")
                continue
            official_params = {
                p["name"]: p
                for p in (_ref(official_spec, p) for p in official_operation.get("parameters", []))
                if p["in"] == "query"
            }
            for param in (_ref(ours_spec, p) for p in operation.get("parameters", [])):
                if param["in"] != "query":
                    continue
                where = f"{method.upper()} {official_path} ?{param['name']}"
                if param["name"] not in official_params:
                    if not param.get("x-not-in-public-contract"):
                        out.append(f"{where}: not in {official_name} and not marked x-not-in-public-contract")
                    continue
                _compare(
                    ours_spec, param["schema"], official_spec, official_params[param["name"]]["schema"], where, {}, out
                )
    # `page` is a string with format int32 in the public contracts; an integer here (drift-neutral).
    assert [line for line in out if "?page: ours ['integer'], official ['string']" not in line] == []


def test_kiss_front_list_parameters_are_open_klant_1_or_objects_api_ones():
    ours_spec = _load(KISS_FRONT)
    ok1 = _official("open-klant-1.0.0-contactmomenten")
    objects = [_official("objects-api-2.4.0.v2"), _official("objects-api-3.5.0.v2")]
    sources = [
        ("/contactmomenten/api/v1/contactmomenten", [(ok1, "/contactmomenten")]),
        ("/contactmomenten/api/v1/klantcontactmomenten", [(ok1, "/klantcontactmomenten")]),
        ("/contactmomenten/api/v1/objectcontactmomenten", [(ok1, "/objectcontactmomenten")]),
        ("/api/v2/objects", [(spec, "/objects") for spec in objects]),
    ]
    # e-Suite filters KISS may use on the adapter, forwarded as such (kiss-front.md §4.2)
    extra = {"identificatie", "telefoonnummerOfEmailadres", "type"}
    out = []
    for path, officials in sources:
        ours = ours_spec["paths"][path]["get"]
        names = set()
        for spec, official_path in officials:
            names |= {_ref(spec, p)["name"] for p in spec["paths"][official_path]["get"].get("parameters", [])}
        for param in (_ref(ours_spec, p) for p in ours.get("parameters", [])):
            if (
                param["in"] == "query"
                and param["name"] not in names
                and not (path.endswith("/contactmomenten") and param["name"] in extra)
            ):
                out.append(f"GET {path} ?{param['name']}: in no official version")
    assert out == []


def test_deviations_listed_here_are_still_deviations():
    """A documented deviation that the official spec now allows should be removed from the list."""
    ours_spec = _load(KISS_FRONT)
    stale = []
    for where in KISS_FRONT_DEVIATIONS:
        schema_name, _, rest = where.partition(".")
        pairs = [p for p in KISS_FRONT_PAIRS if p[0] == schema_name]
        out: list[str] = []
        for ours_name, official_name, official_where in pairs:
            official_spec = _official(official_name)
            _compare(
                ours_spec,
                ours_spec["components"]["schemas"][ours_name],
                official_spec,
                _find(official_spec, official_where),
                ours_name,
                {k: v for k, v in KISS_FRONT_DEVIATIONS.items() if k != where},
                out,
            )
        if not any(line.startswith(where) for line in out):
            stale.append(where)
    assert stale == []
