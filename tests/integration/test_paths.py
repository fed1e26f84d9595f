"""Issue 13 item 1: no request reaches an e-Suite path its route does not name (SEC-14 … SEC-16).

Requests go into the app as raw ASGI scopes, the path exactly as a client such as
`curl --path-as-is` sends it (httpx would remove `..` before sending). The e-Suite is a
recording transport: "nothing sent" is asserted on its request list.
"""

import io
import json
from urllib.parse import unquote

import httpx
import orjson
import pytest

from adapter.app import create_app
from adapter.esuite_client.client import CallContext, EsuiteClient, EsuiteTokenSource
from adapter.esuite_client.urls import UrlMap
from adapter.logging import configure_logging
from adapter.metrics import Metrics
from adapter.problems import Problem
from tests.conftest import (
    ADAPTER,
    ESUITE,
    ESUITE_CLIENT,
    ESUITE_SECRET,
    OBJECTS_TOKEN,
    SMOELENBOEK_TOKEN,
    SMOELENBOEK_TYPE,
    Stack,
    fixture_settings,
    kiss_headers,
)

pytestmark = pytest.mark.anyio

UUID = "6b49ddb3-f8be-452d-92ba-f780ee8d49db"
CM = f"{ESUITE}/contactmomenten-api-provider/api/v1"
ROOTS = [
    "/contactmomenten/api/v1",
    "/klanten/api/v1",
    "/zaken/api/v1",
    "/catalogi/api/v1",
    "/documenten/api/v1",
    "/api/v2/objects",
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# (spelling appended to a root, the SEC-14 rule it breaks): the attacks of issue 13 and kin.
SPELLINGS = [
    (f"/../../../contactmomenten-api-provider/api/v1/contactmomenten/{UUID}", "dot-segment"),
    ("/x/../contactmomenten", "dot-segment"),
    ("/./klanten?emailadres=anna%40example.org", "dot-segment"),
    (f"/%2e%2e/%2e%2e/%2e%2e/contactmomenten-api-provider/api/v1/contactmomenten/{UUID}", "dot-segment"),
    ("/%2E%2E/x", "dot-segment"),
    ("/.%2e/.%2e/x", "dot-segment"),
    ("/%2e./x", "dot-segment"),
    ("/%2e/klanten", "dot-segment"),
    ("/%252e%252e/%252e%252e/x", "dot-segment"),
    ("/%25252e%25252e/x", "dot-segment"),
    ("/..;/..;/x", "dot-segment"),
    ("/..%3b/x", "dot-segment"),
    ("/x/..", "dot-segment"),
    ("/x/.", "dot-segment"),
    ("/x%2F..%2F..%2Fy", "encoded-separator"),
    ("/x%2fy", "encoded-separator"),
    ("/x%5C..%5Cy", "encoded-separator"),
    ("/x%5cy", "encoded-separator"),
    ("/x%252Fy", "encoded-separator"),
    ("/x%25255cy", "encoded-separator"),
    ("/x\\..\\..\\y", "backslash"),
    ("//x", "empty-segment"),
    ("/x//y", "empty-segment"),
    ("/x//", "empty-segment"),
    ("/x%00y", "nul"),
    ("/x%2500y", "nul"),
    ("/%c0%ae%c0%ae/%c0%ae%c0%ae/x", "invalid-utf8"),
    ("/%25c0%25ae%25c0%25ae/x", "invalid-utf8"),
    ("/%e0%80%ae%e0%80%ae/x", "invalid-utf8"),
]


def recording(answer: httpx.Response | None = None):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return answer if answer is not None else httpx.Response(200, json={})

    return seen, httpx.MockTransport(handler)


async def raw_request(app, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""):
    """One request as a server hands it to the app: `raw_path` as sent, `path` decoded once
    (what uvicorn does), no normalisation anywhere. Returns (status, headers, body)."""
    raw_path, _, query = target.encode("latin-1").partition(b"?")
    all_headers = {"host": "kiss-adapter.example.org", **(headers or {})}
    if body:
        all_headers["content-length"] = str(len(body))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "server": ("kiss-adapter.example.org", 443),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": unquote(raw_path.decode("latin-1")),
        "raw_path": raw_path,
        "query_string": query,
        "headers": [(name.lower().encode(), value.encode()) for name, value in all_headers.items()],
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    answer: dict = {"body": b""}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {name.decode(): value.decode() for name, value in message["headers"]}
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], answer["headers"], answer["body"]


@pytest.fixture(scope="module")
def guarded():
    seen, transport = recording()
    return create_app(fixture_settings(), esuite_transport=transport), seen


def assert_path_refused(status: int, headers: dict, body: bytes, rule: str) -> None:
    problem = orjson.loads(body)
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert problem["code"] == "invalid"
    assert problem["detail"] == "Het adres van het verzoek is ongeldig."
    assert [(p["name"], p["code"]) for p in problem["invalidParams"]] == [("path", rule)]
    assert len(headers["x-request-id"]) == 36


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("spelling, rule", SPELLINGS)
async def test_SEC14_every_spelling_on_every_root_and_method_is_400_and_nothing_is_sent(
    guarded, method, root, spelling, rule
):
    app, seen = guarded
    seen.clear()
    body = b'{"type":"Terugbelverzoek"}' if method in ("POST", "PUT", "PATCH") else b""
    headers = {**kiss_headers(), "content-type": "application/json"}
    status, answer_headers, answer = await raw_request(app, method, root + spelling, headers, body)
    assert_path_refused(status, answer_headers, answer, rule)
    assert seen == []
    if root == "/api/v2/objects":
        assert answer_headers["content-crs"] == "EPSG:4326"


@pytest.mark.parametrize("method", ["GET", "DELETE", "HEAD", "OPTIONS"])
async def test_SEC14_refused_before_authentication(guarded, method):
    """No credentials are looked at (nor decoded) for a path that is refused anyway."""
    app, seen = guarded
    seen.clear()
    status, headers, body = await raw_request(
        app, method, "/klanten/api/v1/%2e%2e/x", {"authorization": "Bearer " + "x" * 1000}
    )
    assert_path_refused(status, headers, body, "dot-segment")
    assert seen == []


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "PUT"])
@pytest.mark.parametrize("root", ["/klanten/api/v1", "/zaken/api/v1", "/catalogi/api/v1", "/documenten/api/v1"])
async def test_issue13_no_contact_is_changed_through_another_root(method, root):
    stack = Stack()
    try:
        status, headers, body = await raw_request(
            stack.app,
            method,
            f"{root}/../../../contactmomenten-api-provider/api/v1/contactmomenten/{UUID}",
            {**kiss_headers(), "content-type": "application/json"},
            b"{}" if method != "DELETE" else b"",
        )
        assert_path_refused(status, headers, body, "dot-segment")
        assert stack.upstream_requests() == []
    finally:
        await stack.aclose()


TERUGBELVERZOEK = orjson.dumps(
    {
        "bronorganisatie": "",
        "registratiedatum": "2026-12-02T08:00:00.000Z",
        "kanaal": "telefoon",
        "tekst": "Graag terugbellen.",
        "onderwerpLinks": [],
        "initiatiefnemer": "klant",
        "medewerkerIdentificatie": {
            "identificatie": "jjansen",
            "achternaam": "Jansen",
            "voorletters": "J",
            "voorvoegselAchternaam": "",
        },
        "resultaat": "",
        "vraag": "Terugbelverzoek",
        "specifiekevraag": "",
        "gespreksResultaat": "",
        "voorkeurskanaal": "",
        "voorkeurstaal": "",
        "type": "Terugbelverzoek",
        "status": "te verwerken",
    }
)


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/contactmomenten/api/v1/x/../contactmomenten", 400),
        ("/contactmomenten/api/v1/x/%2e%2e/contactmomenten", 400),
        ("/contactmomenten/api/v1/./contactmomenten", 400),
        ("/contactmomenten/api/v1//contactmomenten", 400),
        ("/contactmomenten/api/v1/contactmomenten;x", 404),
        ("/contactmomenten/api/v1/contactmomenten%3Bx", 404),
        ("/contactmomenten/api/v1/Contactmomenten", 404),
        ("/contactmomenten/api/v1/CONTACTMOMENTEN", 404),
        ("/contactmomenten/api/v1/contactmomenten.json", 404),
        ("/contactmomenten/api/v1/contactmomenten.", 404),
        ("/contactmomenten/api/v1/contactmomenten%20", 404),
        ("/contactmomenten/api/v1/contactmomenten%09", 400),  # a TAB: control-character
        ("/contactmomenten/api/v1/contact%256Domenten/x", 404),
        ("/contactmomenten/api/v1/contactmomenten;x/", 404),
        ("/contactmomenten/api/v1/contactmomenten%3F", 404),
        ("/contactmomenten/api/v1/contactmomenten%23", 404),
        ("/contactmomenten/api/v1/contactmomenten/x", 405),  # route 8
        ("/contactmomenten/api/v1/contactmomenten/x/y", 405),
        (f"/contactmomenten/api/v1/contactmomenten/{UUID}/x", 405),
    ],
)
async def test_SEC16_no_spelling_posts_to_the_esuite_contactmomenten_collection(target, expected):
    """The simulator would store a Terugbelverzoek without behandelaar as afgehandeld."""
    stack = Stack()
    try:
        headers = {**kiss_headers(), "content-type": "application/json"}
        status, answer_headers, body = await raw_request(stack.app, "POST", target, headers, TERUGBELVERZOEK)
        assert status == expected
        assert stack.upstream_requests() == []
        problem = orjson.loads(body)
        assert problem["code"] == {400: "invalid", 404: "not_found", 405: "method_not_allowed"}[expected]
        if expected == 405:
            assert answer_headers["allow"] in ("GET, HEAD", "GET")
    finally:
        await stack.aclose()


@pytest.mark.parametrize(
    "target",
    [
        "/klanten/api/v1/./klanten?emailadres=anna%40example.org",
        "/klanten/api/v1/klanten;x?emailadres=anna%40example.org",
        "/klanten/api/v1/Klanten?emailadres=anna%40example.org",
        "/klanten/api/v1/klanten.json?telefoonnummer=0612345678",
        "/klanten/api/v1/%E2%84%AAlanten?emailadres=anna%40example.org",  # KELVIN SIGN folds to k
        "/klanten/api/v1/klanten/?emailadres=anna%40example.org",  # Spring matches a trailing `/`
        "/zaken/api/v1/zaken/?identificatie=ZAAK-1",
        "/zaken/api/v1/zaken;x",
        "/zaken/api/v1/Zaken",
        "/contactmomenten/api/v1/contactmomenten;x?klant=x",
        "/contactmomenten/api/v1/Klantcontactmomenten",
        "/contactmomenten/api/v1/objectcontactmomenten;x",
    ],
)
async def test_SEC16_the_refused_searches_do_not_pass_by_another_spelling(guarded, target):
    app, seen = guarded
    seen.clear()
    status, _, body = await raw_request(app, "GET", target, kiss_headers())
    assert status in (400, 404)
    assert orjson.loads(body)["code"] in ("invalid", "not_found")
    assert seen == []


@pytest.mark.parametrize(
    "target",
    ["/zaken/api/v1/zaakcontactmomenten/", "/zaken/api/v1/zaakcontactmomenten;x", "/zaken/api/v1/Zaakcontactmomenten"],
)
async def test_SEC16_the_local_zaakcontactmomenten_is_not_passed_on_by_another_spelling(guarded, target):
    """Route 18 answers 204 locally (Z-3); no spelling of it creates anything in the e-Suite."""
    app, seen = guarded
    seen.clear()
    status, _, body = await raw_request(
        app, "POST", target, {**kiss_headers(), "content-type": "application/json"}, b"{}"
    )
    assert (status, orjson.loads(body)["code"]) == (404, "not_found")
    assert seen == []


@pytest.mark.parametrize(
    "method, target, upstream_path",
    [
        ("GET", f"/klanten/api/v1/klanten/{UUID}", f"/klanten-api-provider/api/v1/klanten/{UUID}"),
        ("GET", "/klanten/api/v1/", "/klanten-api-provider/api/v1/"),
        ("GET", "/catalogi/api/v1", "/zgw-apis-provider/ztc/api/v1"),
        ("GET", "/documenten/api/v1/x%20y/..b", "/zgw-apis-provider/drc/api/v1/x%20y/..b"),
        ("GET", "/zaken/api/v1/zaken/niet-een-uuid", "/zgw-apis-provider/zrc/api/v1/zaken/niet-een-uuid"),
        ("POST", "/contactmomenten/api/v1/medewerkers", "/contactmomenten-api-provider/api/v1/medewerkers"),
        (
            "GET",
            f"/contactmomenten/api/v1/klantcontactmomenten/{UUID}",
            f"/contactmomenten-api-provider/api/v1/klantcontactmomenten/{UUID}",
        ),
        (
            "GET",
            f"/contactmomenten/api/v1/contactmomenten/{UUID}/x",
            f"/contactmomenten-api-provider/api/v1/contactmomenten/{UUID}/x",
        ),
        ("DELETE", "/zaken/api/v1/rollen/r1", "/zgw-apis-provider/zrc/api/v1/rollen/r1"),
        # Specific routes that pass through own their trailing `/` (kiss-front.md §1 routes 9, 10).
        (
            "GET",
            "/contactmomenten/api/v1/klantcontactmomenten/",
            "/contactmomenten-api-provider/api/v1/klantcontactmomenten/",
        ),
        (
            "POST",
            "/contactmomenten/api/v1/objectcontactmomenten/",
            "/contactmomenten-api-provider/api/v1/objectcontactmomenten/",
        ),
        # A specific route matched by its decoded path: the spelling rule is the catch-all's.
        ("GET", "/klanten/api/v1/klant%65n?achternaam=x", "/klanten-api-provider/api/v1/klant%65n"),
    ],
)
async def test_ordinary_paths_still_reach_their_own_root(guarded, method, target, upstream_path):
    app, seen = guarded
    seen.clear()
    status, _, _ = await raw_request(app, method, target, kiss_headers())
    assert status == 200
    assert [(request.method, request.url.raw_path.decode().split("?")[0]) for request in seen] == [
        (method, upstream_path)
    ]


@pytest.mark.parametrize(
    "target, status",
    [
        ("/healthz", 200),
        ("/nope", 401),
        ("/klanten/api/v1/klanten", 401),
        ("/contactmomenten/api/v1/contactmomenten/", 401),
    ],
)
async def test_operational_paths_and_401_before_404_hold(guarded, target, status):
    app, _ = guarded
    assert (await raw_request(app, "GET", target))[0] == status


async def test_trailing_slash_is_not_an_empty_segment(guarded):
    app, seen = guarded
    seen.clear()
    status, _, _ = await raw_request(app, "POST", "/contactmomenten/api/v1/contactmomenten/", kiss_headers())
    assert status == 400  # route 5's validation of the missing body, not the path rule
    assert seen == []


# --- SEC-15: outbound URLs stay under the call's own root ------------------------------------


def esuite_client(transport: httpx.AsyncBaseTransport) -> EsuiteClient:
    tokens = EsuiteTokenSource(ESUITE_CLIENT, ESUITE_SECRET)
    return EsuiteClient(tokens, Metrics(), timeout_seconds=5, max_connections=2, transport=transport)


@pytest.mark.parametrize(
    "target, url",
    [
        # httpx removes the `..`: the URL it would send lies under the contactmomenten root.
        (
            "klanten",
            f"{ESUITE}/klanten-api-provider/api/v1/../../contactmomenten-api-provider/api/v1/contactmomenten/{UUID}",
        ),
        ("klanten", f"{CM}/contactmomenten/{UUID}"),  # one of the five, but not this call's
        ("zaken", f"{ESUITE}/zgw-apis-provider/ztc/api/v1/zaaktypen"),
        ("contactmomenten", f"{CM}/%2e%2e/%2e%2e/elders"),
        ("contactmomenten", f"{CM}/x%2F..%2F..%2Felders"),
        ("contactmomenten", f"{CM}/x/..;/..;/elders"),
        ("contactmomenten", f"{CM}x/contactmomenten"),
        ("contactmomenten", "https://elders.example.org/contactmomenten-api-provider/api/v1/contactmomenten"),
    ],
)
async def test_SEC15_credentials_only_under_the_calls_own_root(target, url):
    seen, transport = recording()
    client = esuite_client(transport)
    call = CallContext("r1", UrlMap(ADAPTER, ESUITE), user_id="jjansen")
    with pytest.raises(Problem) as refused:
        await client.send(call, "DELETE", url, target=target)
    await client.aclose()
    assert (refused.value.status, refused.value.code) == (502, "upstream-invalid-url")
    assert seen == []


# --- SEC-15 on links the adapter follows or passes on ----------------------------------------

ZAAK = f"{ESUITE}/zgw-apis-provider/zrc/api/v1/zaken/a177c7fa-bb70-4d42-9584-6b099e87512b"


@pytest.mark.parametrize(
    "next_link",
    [
        f"{CM}/objectcontactmomenten/%2e%2e/%2e%2e/%2e%2e/elders?page=2",
        f"{CM}/objectcontactmomenten/.%2e/.%2e/.%2e/elders?page=2",
        f"{CM}/objectcontactmomenten/x%2F..%2F..%2Felders?page=2",
        f"{CM}/objectcontactmomenten/%252e%252e/x?page=2",
        f"{CM}/objectcontactmomenten/../contactmomenten?page=2",
        f"{ESUITE}/klanten-api-provider/api/v1/objectcontactmomenten?page=2",
        f"{CM}/objectcontactmomenten?page=2\r\nX-Injected: 1",  # httpx refuses it: not KISS's 400
        f"{CM}/objectcontactmomenten?page=2\x00",
        f"{CM}/objectcontactmomenten/;x/contactmomenten?page=2",
        f"{CM}/objectcontactmomenten/%u002e%u002e/contactmomenten?page=2",
    ],
)
async def test_SEC15_a_hostile_next_link_is_502_and_never_fetched(next_link):
    page = {"count": 2, "next": next_link, "previous": None, "results": []}
    seen, transport = recording(httpx.Response(200, json=page))
    app = create_app(fixture_settings(), esuite_transport=transport)
    query = "object=" + ZAAK.replace(":", "%3A").replace("/", "%2F")
    status, _, body = await raw_request(app, "GET", f"/contactmomenten/api/v1/contactmomenten?{query}", kiss_headers())
    assert (status, orjson.loads(body)["code"]) == (502, "upstream-invalid-url")
    assert [request.url.path for request in seen] == ["/contactmomenten-api-provider/api/v1/objectcontactmomenten"]


@pytest.mark.parametrize(
    "location",
    [
        f"{CM}/contactmomenten/{UUID}",  # another e-Suite root than the route's
        f"{ESUITE}/klanten-api-provider/api/v1/%2e%2e/%2e%2e/contactmomenten-api-provider/api/v1/contactmomenten/{UUID}",
        f"{ESUITE}/klanten-api-provider/api/v1/../../contactmomenten-api-provider/api/v1",
        "https://elders.example.org/klanten-api-provider/api/v1/klanten/k1",
        "/klanten-api-provider/api/v1/klanten/k1",
    ],
)
async def test_SEC15_a_foreign_location_is_not_passed_on(location):
    answer = httpx.Response(201, json={"naam": "k1"}, headers={"Location": location, "Content-Location": location})
    seen, transport = recording(answer)
    app = create_app(fixture_settings(), esuite_transport=transport)
    status, headers, _ = await raw_request(
        app, "POST", "/klanten/api/v1/klanten", {**kiss_headers(), "content-type": "application/json"}, b"{}"
    )
    assert status == 201
    assert "location" not in headers and "content-location" not in headers
    assert len(seen) == 1


async def test_SEC15_an_own_root_location_is_rewritten():
    location = f"{ESUITE}/klanten-api-provider/api/v1/klanten/k1"
    seen, transport = recording(httpx.Response(201, json={}, headers={"Location": location}))
    app = create_app(fixture_settings(), esuite_transport=transport)
    status, headers, _ = await raw_request(
        app, "POST", "/klanten/api/v1/klanten", {**kiss_headers(), "content-type": "application/json"}, b"{}"
    )
    assert (status, headers["location"]) == (201, f"{ADAPTER}/klanten/api/v1/klanten/k1")


# --- issue 13 item 4: one `type` on /api/v2/objects (kiss-front.md §5.5) ----------------------

INTERNE_TAAK = "https://objecttypen.example.org/api/v2/objecttypes/30ee8e89-2761-4e35-8eb4-b79980bdc7a9"
OTHER_TYPE = "https://objecttypen.example.org/api/v2/objecttypes/afdelingen"


def smoelenboek_settings():
    return fixture_settings()  # the smoelenboek at https://objecten.example.org


@pytest.mark.parametrize("authorization", [kiss_headers()["Authorization"], f"Token {OBJECTS_TOKEN}"])
@pytest.mark.parametrize(
    "query",
    [
        f"type={SMOELENBOEK_TYPE}&type={OTHER_TYPE}",
        f"type={OTHER_TYPE}&type={SMOELENBOEK_TYPE}",
        f"type={SMOELENBOEK_TYPE}&page=2&type={SMOELENBOEK_TYPE}",
        f"type={SMOELENBOEK_TYPE}&ty%70e={OTHER_TYPE}",
        f"type={INTERNE_TAAK}&type={SMOELENBOEK_TYPE}",
    ],
)
async def test_S_a_repeated_type_is_400_naming_type_and_nothing_is_forwarded(authorization, query):
    seen, transport = recording()
    app = create_app(smoelenboek_settings(), esuite_transport=transport)
    status, headers, body = await raw_request(app, "GET", f"/api/v2/objects?{query}", {"authorization": authorization})
    problem = orjson.loads(body)
    assert (status, problem["code"]) == (400, "invalid")
    assert [p["name"] for p in problem["invalidParams"]] == ["type"]
    assert headers["content-crs"] == "EPSG:4326"
    assert seen == []


@pytest.mark.parametrize("authorization", [kiss_headers()["Authorization"], f"Token {OBJECTS_TOKEN}"])
async def test_S_one_type_and_other_parameters_are_forwarded_as_today(authorization):
    seen, transport = recording(httpx.Response(200, json={"count": 0, "next": None, "previous": None, "results": []}))
    app = create_app(smoelenboek_settings(), esuite_transport=transport)
    status, _, _ = await raw_request(
        app,
        "GET",
        f"/api/v2/objects?type={SMOELENBOEK_TYPE}&page=2&data_attrs=a__exact__b",
        {"authorization": authorization},
    )
    assert status == 200
    [sent] = seen
    assert str(sent.url) == (
        "https://objecten.example.org/api/v2/objects?type=https%3A%2F%2Fobjecttypen.example.org%2Fapi%2Fv2%2F"
        "objecttypes%2Fcadf96e6-63aa-4641-807f-867106fc2566&page=2&data_attrs=a__exact__b"
    )
    assert sent.headers["authorization"] == f"Token {SMOELENBOEK_TOKEN}"


async def test_SEC14_the_refusal_is_logged_with_its_rule_never_the_path(guarded):
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream)
    try:
        app, _ = guarded
        target = "/klanten/api/v1/%2e%2e/anna.vandijk@example.org/999993653"
        await raw_request(app, "GET", target, {**kiss_headers(), "x-request-id": "trace-13"})
    finally:
        configure_logging("INFO", "json")
    [line] = [json.loads(text) for text in stream.getvalue().splitlines() if text.strip()]
    assert {key: line[key] for key in ("event", "level", "method", "route", "status", "refused", "request_id")} == {
        "event": "path_refused",
        "level": "warning",
        "method": "GET",
        "route": "unmatched",
        "status": 400,
        "refused": "dot-segment",
        "request_id": "trace-13",
    }
    assert "anna" not in stream.getvalue() and "999993653" not in stream.getvalue()


@pytest.mark.parametrize(
    "target, rule",
    [
        ("/kl%61nten/api/v1/x", "root-spelling"),
        ("/zaken/api/v1/zaken/x#y", "fragment"),
        ("/catalogi/api/v1/x%23y#z", "fragment"),
    ],
)
async def test_SEC15_the_pass_through_builds_only_from_a_checked_sub_path(guarded, target, rule):
    """What passes the guard is checked again where the outbound URL is built."""
    app, seen = guarded
    seen.clear()
    status, headers, body = await raw_request(app, "GET", target, kiss_headers())
    assert_path_refused(status, headers, body, rule)
    assert seen == []
