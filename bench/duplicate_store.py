"""Bytes the duplicate store keeps per stored create (issue 14, README "Duplicate protection").

Runs N creates of unique KISS contactverzoeken through the real app (in process, an
`httpx.MockTransport` answering with a realistic e-Suite created contact of `bench.canned`),
then measures with tracemalloc what the in-process store retains: the traced memory with
the store full minus the same with the store emptied. Also prints the store's own
accounting (`kiss_adapter_duplicate_store_bytes`) per entry, to compare.

    .venv/bin/python -m bench.duplicate_store [--creates 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import random
import secrets
import time
import tracemalloc

import httpx

from adapter.services import services_of
from bench import canned as C

BASE = "http://esuite.bench.example"


def _environment(keys: dict[str, str]) -> dict[str, str]:
    return {
        "ESUITE_BASE_URL": BASE,
        "ESUITE_CLIENT_ID": "bench-adapter",
        "ESUITE_CLIENT_SECRET": keys["esuite"],
        "CLIENTS__0__ID": "bench-kiss",
        "CLIENTS__0__SECRET": keys["kiss"],
        "CONTACTVERZOEK_TYPES__0": "Terugbelverzoek",
        "INTERNE_TAAK_OBJECT_TYPE_URL": C.INTERNE_TAAK_TYPE,
        "ADAPTER_BASE_URL": "http://adapter.bench.example",
        "LOG_LEVEL": "ERROR",
    }


async def _run(creates: int) -> dict:
    from adapter.app import create_app
    from adapter.config import load_settings
    from adapter.kiss_api.auth import mint_token
    from adapter.logging import configure_logging

    keys = {"esuite": secrets.token_urlsafe(36), "kiss": secrets.token_urlsafe(36)}
    settings = load_settings(_environment(keys)).settings
    configure_logging("ERROR", "json", stream=io.StringIO())
    rng = random.Random(14)

    def esuite(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            201, content=C.dumps(C._created(rng, BASE, 0)), headers={"Content-Type": "application/json"}
        )

    app = create_app(settings, esuite_transport=httpx.MockTransport(esuite))
    token = mint_token("bench-kiss", keys["kiss"], time.time(), 3600, "bench")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    template = C.contactverzoek_body()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://adapter.bench.example") as client:
        answer_bytes = 0
        for index in range(50):  # warm-up: caches, pools, lazy imports
            await _create(client, template, headers, f"warm-{index}")
        services_of(app).duplicates._entries.clear()
        gc.collect()
        tracemalloc.start()
        for index in range(creates):
            answer = await _create(client, template, headers, f"n-{index}")
            answer_bytes += len(answer)
        gc.collect()
        full = tracemalloc.get_traced_memory()[0]
        entries, accounted = services_of(app).duplicates.size
        services_of(app).duplicates._entries.clear()
        services_of(app).duplicates._expiries.clear()
        gc.collect()
        empty = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    await services_of(app).esuite.aclose()
    return {
        "creates": creates,
        "entries": entries,
        "answer_bytes_per_create": round(answer_bytes / creates),
        "retained_bytes_per_create": round((full - empty) / creates),
        "accounted_bytes_per_create": round(accounted / max(1, entries)),
    }


async def _create(client: httpx.AsyncClient, template: str, headers: dict, marker: str) -> bytes:
    response = await client.post(
        "/contactmomenten/api/v1/contactmomenten", content=template.replace(C.UNIQUE_MARK, marker), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--creates", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_run(args.creates)), indent=2))


if __name__ == "__main__":
    main()
