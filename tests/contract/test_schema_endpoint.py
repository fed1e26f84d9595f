"""`GET /api/schema` serves contracts/kiss-front.openapi.yaml from inside the package."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from adapter.kiss_api import schema
from tests.conftest import ADAPTER, app_client
from tests.contract_validation import KISS_FRONT, ResponseValidatingTransport

pytestmark = pytest.mark.anyio

PACKAGED = KISS_FRONT.parents[1] / "adapter" / "kiss_api" / schema.DOCUMENT


def test_the_packaged_copy_is_the_contract_byte_for_byte():
    assert PACKAGED.read_bytes() == KISS_FRONT.read_bytes(), (
        "adapter/kiss_api/kiss-front.openapi.yaml differs from contracts/kiss-front.openapi.yaml: "
        "cp contracts/kiss-front.openapi.yaml adapter/kiss_api/"
    )


def test_the_package_loads_it_as_a_resource():
    assert schema.document() == KISS_FRONT.read_bytes()


async def test_the_endpoint_answers_yaml_and_conforms():
    app = Starlette(routes=[Route("/api/schema", schema.api_schema, methods=["GET"])])
    # The bare endpoint has no pipeline (no X-Request-ID): check body and type here, shape below.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER) as client:
        response = await client.get("/api/schema")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/yaml"
    assert response.content == KISS_FRONT.read_bytes()


async def test_the_route_is_wired_anonymous_and_conforms():
    """Needs `Route("/api/schema", schema.api_schema, methods=["GET"])` in adapter/app.py."""
    async with app_client() as client:
        assert isinstance(client._transport, ResponseValidatingTransport)
        routes = {getattr(route, "path", None) for route in client._transport.app.routes}
        assert "/api/schema" in routes, 'add Route("/api/schema", schema.api_schema, methods=["GET"]) to adapter/app.py'
        response = await client.get("/api/schema")  # no Authorization: anonymous (kiss-front.md §1)
    assert response.status_code == 200
    assert response.content == KISS_FRONT.read_bytes()
