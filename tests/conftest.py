"""Shared test helpers: the fixture configuration, tokens, the app with a chosen upstream."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapter.app import create_app
from adapter.config import Settings, load_settings
from adapter.kiss_api.auth import mint_token
from tests.contract_validation import RequestValidatingTransport, ResponseValidatingTransport, ViolationLog

REPO = Path(__file__).resolve().parents[1]
# Every request, answer and expected result the tests use (tests/fixtures/README.md).
FIXTURES = REPO / "tests" / "fixtures"

ADAPTER = "https://kiss-adapter.example.org"
ESUITE = "https://esuite.example.org"
KISS_CLIENT = "kiss"
KISS_SECRET = "kiss-secret-0123456789abcdefghijklmnopqrstuvwxyz"
ESUITE_CLIENT = "kiss-adapter"
ESUITE_SECRET = "esuite-secret-0123456789abcdefghijklmnopqrstuvwxyz"
OBJECTS_TOKEN = "objects-token-0123456789abcdefghijklmnopqrstuvwxyz"
INTERNE_TAAK_TYPE = "https://objecttypen.example.org/api/v2/objecttypes/30ee8e89-2761-4e35-8eb4-b79980bdc7a9"
SMOELENBOEK_TYPE = "https://objecttypen.example.org/api/v2/objecttypes/cadf96e6-63aa-4641-807f-867106fc2566"
SMOELENBOEK_TOKEN = "smoelenboek-token-0123456789abcdefghijklmnop"


def fixture_env(**overrides: str) -> dict[str, str]:
    """The configuration the fixtures' expected results assume (fixtures/README.md)."""
    env = {
        "ADAPTER_BASE_URL": ADAPTER,
        "ESUITE_BASE_URL": ESUITE,
        "ESUITE_CLIENT_ID": ESUITE_CLIENT,
        "ESUITE_CLIENT_SECRET": ESUITE_SECRET,
        "CLIENTS__0__ID": KISS_CLIENT,
        "CLIENTS__0__SECRET": KISS_SECRET,
        "CONTACTVERZOEK_TYPES__0": "Terugbelverzoek",
        "CONTACTVERZOEK_TYPES__1": "Contactverzoek",
        "INTERNE_TAAK_OBJECT_TYPE_URL": INTERNE_TAAK_TYPE,
        "SMOELENBOEK_OBJECT_TYPE_URL": SMOELENBOEK_TYPE,
        "SMOELENBOEK_BASE_URL": "https://objecten.example.org",
        "SMOELENBOEK_TOKEN": SMOELENBOEK_TOKEN,
        "OBJECTS_TOKENS__0": OBJECTS_TOKEN,
        "ESUITE_TIMEOUT_SECONDS": "5",
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value != ""}


def fixture_settings(**overrides: str) -> Settings:
    result = load_settings(fixture_env(**overrides))
    assert result.settings is not None, result.report()
    return result.settings


def kiss_token(user_id: str = "jjansen", **claims: Any) -> str:
    token = mint_token(KISS_CLIENT, KISS_SECRET, time.time(), user_id=user_id, user_representation="J. Jansen")
    if claims:
        import jwt

        payload = jwt.decode(token, options={"verify_signature": False})
        payload.update(claims)
        token = jwt.encode({k: v for k, v in payload.items() if v is not None}, KISS_SECRET, algorithm="HS256")
    return token


def kiss_headers(user_id: str = "jjansen") -> dict[str, str]:
    return {"Authorization": f"Bearer {kiss_token(user_id)}"}


def load_fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def ordered(value: Any) -> Any:
    """JSON with key order made visible, so `==` also compares the order of keys."""
    if isinstance(value, dict):
        return [(key, ordered(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [ordered(item) for item in value]
    return value


def app_client(
    transport: httpx.AsyncBaseTransport | None = None, settings: Settings | None = None, **kwargs
) -> httpx.AsyncClient:
    """An inbound client for the real app; upstream goes to `transport` (or pytest-httpx)."""
    # httpx's own transport unless one is given, so pytest-httpx can answer for the e-Suite;
    # the production transport (H1Transport) is tested on real sockets in test_transport*.py.
    app = create_app(settings or fixture_settings(), esuite_transport=transport or httpx.AsyncHTTPTransport(), **kwargs)
    # --- contract validation (issue 6): every answer is checked against contracts/kiss-front.openapi.yaml
    inbound = ResponseValidatingTransport(httpx.ASGITransport(app))
    # --- end contract validation
    return httpx.AsyncClient(transport=inbound, base_url=ADAPTER)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Stack:
    """The real app in front of the in-process e-Suite simulator, as KISS would see them."""

    def __init__(self, settings: Settings | None = None, **sim_overrides: Any) -> None:
        from adapter.esuite_sim import SimulatorConfig, create_simulator

        self.settings = settings or fixture_settings()
        sim_config = {"base_url": self.settings.esuite_base_url, "id_seed": 1234, **sim_overrides}
        self.sim = create_simulator(SimulatorConfig(ESUITE_CLIENT, ESUITE_SECRET, **sim_config))
        # --- contract validation (issue 6): requests the simulator receives are checked against
        # contracts/esuite.openapi.yaml, answers to KISS against contracts/kiss-front.openapi.yaml;
        # upstream violations are raised with the answer of the request that caused them.
        self.contract_violations = ViolationLog()
        upstream = RequestValidatingTransport(
            httpx.ASGITransport(self.sim), self.settings.esuite_base_url, self.contract_violations
        )
        self.app = create_app(self.settings, esuite_transport=upstream)
        inbound = ResponseValidatingTransport(httpx.ASGITransport(self.app), upstream_log=self.contract_violations)
        # --- end contract validation
        self.client = httpx.AsyncClient(transport=inbound, base_url=ADAPTER)

    @property
    def store(self):
        return self.sim.state.store

    def upstream_requests(self, method: str | None = None, path_suffix: str | None = None) -> list[dict]:
        """The simulator's request log (method, path, query, body, user_id, claims, …)."""
        return [
            entry
            for entry in self.store.requests
            if (method is None or entry["method"] == method)
            and (path_suffix is None or entry["path"].endswith(path_suffix))
        ]

    async def aclose(self) -> None:
        await self.client.aclose()


@pytest.fixture
async def stack():
    stack = Stack()
    yield stack
    await stack.aclose()
