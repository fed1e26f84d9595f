"""Issue 17: the adapter's answers, byte for byte, as they were before its performance work.

`tests/fixtures/byte_identity/upstream.json` holds e-Suite answers: the bench's canned pages
(50 contacts, the klant links of 50 contactverzoeken, a created contact) and a page of
awkward strings (escapes, non-ASCII, URLs inside texts and as keys, a root without a
boundary, a foreign origin). `contactverzoek.json` is the KISS v1 contactverzoek POST. `answers.json` holds, for every request in `REQUESTS`, the
status, content type, Location and body the adapter gave, and the e-Suite requests it made
(method and raw target). It was written at commit 1cee5f2, before the second performance
pass, by running this module there:

    .venv/bin/python -m tests.integration.byte_identity --write

Regenerate it only when an answer is meant to change, and say so in the commit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx

from tests.conftest import ADAPTER, FIXTURES, INTERNE_TAAK_TYPE, fixture_settings, kiss_headers

HERE = FIXTURES / "byte_identity"
UPSTREAM_FILE = HERE / "upstream.json"
ANSWERS_FILE = HERE / "answers.json"

CM = "/contactmomenten-api-provider/api/v1"
KC = "/klanten-api-provider/api/v1"
KLANT_UUID = "d72e7265-3b76-4410-a9aa-54e20528a3f4"
PHONE = "0612345678"
_KLANT = quote(f"{ADAPTER}/klanten/api/v1/klanten/{KLANT_UUID}", safe="")
_CONTACTVERZOEK = json.loads((HERE / "contactverzoek.json").read_text(encoding="utf-8"))  # the KISS v1 body
# (name, method, target, JSON body)
REQUESTS: tuple[tuple[str, str, str, Any], ...] = (
    ("klant list (S1)", "GET", f"/contactmomenten/api/v1/contactmomenten?klant={_KLANT}", None),
    (
        "klant list, page 2 (awkward strings)",
        "GET",
        f"/contactmomenten/api/v1/contactmomenten?klant={_KLANT}&page=2",
        None,
    ),
    ("awkward detail", "GET", "/contactmomenten/api/v1/contactmomenten/0b7e8d3c-71a2-4c1e-9d57-2f0a4b6c8e91", None),
    ("contactverzoek create (S2)", "POST", "/contactmomenten/api/v1/contactmomenten", _CONTACTVERZOEK),
    (
        "interne taken by phone (S3)",
        "GET",
        f"/api/v2/objects?type={quote(INTERNE_TAAK_TYPE, safe='')}"
        f"&data_attr=betrokkene__digitaleAdressen__icontains__{PHONE}",
        None,
    ),
    ("pass-through klant", "GET", "/klanten/api/v1/klanten/5e0c4a1b-2d3f-4e5a-9b6c-7d8e9f0a1b2c", None),
    ("e-Suite 400 as a problem", "GET", "/klanten/api/v1/klanten/0b7e8d3c-71a2-4c1e-9d57-2f0a4b6c8e91", None),
)
_INSTANCE = re.compile(r"urn:uuid:[0-9a-f-]{36}")


def upstream_handler(upstream: dict[str, Any], seen: list[str]):
    """The e-Suite of the fixture: answers by path (and for lists by query), records each request."""

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode()
        seen.append(f"{request.method} {target}")
        path, _, query = target.partition("?")
        pairs = dict(parse_qsl(query))
        if path == CM + "/contactmomenten" and request.method == "POST":
            entry = upstream["created"]
        elif path == CM + "/contactmomenten":
            entry = upstream["verzoeken_page" if "type" in pairs else "page_2" if "page" in pairs else "klant_page"]
        elif path.startswith(CM + "/contactmomenten/"):
            entry = upstream["awkward_detail"]
        elif path == CM + "/klantcontactmomenten":
            entry = upstream["klant_links"].get(pairs.get("contactmoment", ""), upstream["empty_page"])
        elif path == KC + "/klanten/5e0c4a1b-2d3f-4e5a-9b6c-7d8e9f0a1b2c":
            entry = upstream["klant"]
        elif path.startswith(KC + "/klanten/"):
            return httpx.Response(
                400, content=upstream["klant_error"].encode(), headers={"content-type": "application/problem+json"}
            )
        else:
            return httpx.Response(404, json={"unexpected": target})
        status = 201 if request.method == "POST" else 200
        return httpx.Response(status, content=entry.encode(), headers={"content-type": "application/json"})

    return handler


async def answers_of(app_factory) -> list[dict[str, Any]]:
    """Every request of REQUESTS through the app `app_factory(transport)` builds."""
    upstream = json.loads(UPSTREAM_FILE.read_text(encoding="utf-8"))
    results = []
    for name, method, target, body in REQUESTS:
        seen: list[str] = []
        app = app_factory(httpx.MockTransport(upstream_handler(upstream, seen)))
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER) as client,
        ):
            response = await client.request(method, target, json=body, headers=kiss_headers())
        results.append(
            {
                "request": name,
                "status": response.status_code,
                "content_type": response.headers.get("content-type"),
                "location": response.headers.get("location"),
                "body": _INSTANCE.sub("urn:uuid:{instance}", response.text),
                "upstream": seen,
            }
        )
    return results


def _app_factory(transport: httpx.AsyncBaseTransport):
    from adapter.app import create_app

    return create_app(fixture_settings(), esuite_transport=transport)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--write", action="store_true", help="write answers.json from this checkout's adapter")
    args = parser.parse_args()
    results = asyncio.run(answers_of(_app_factory))
    text = json.dumps(results, ensure_ascii=False, indent=1) + "\n"
    if args.write:
        ANSWERS_FILE.write_text(text, encoding="utf-8")
    else:
        print(text)


if __name__ == "__main__":
    main()
