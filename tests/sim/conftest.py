"""Shared helpers for the e-Suite simulator tests (in process, httpx ASGITransport)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest

from adapter.esuite_sim import SimulatorConfig, create_simulator
from tests.conftest import FIXTURES

CLIENT_ID = "kiss-esuite-adapter-test"
SECRET = "s" * 16 + "e" * 16 + "cret"
BASE = "https://esuite.example.org"
CM = f"{BASE}/contactmomenten-api-provider/api/v1"
KC = f"{BASE}/klanten-api-provider/api/v1"
ZRC = f"{BASE}/zgw-apis-provider/zrc/api/v1"
KLANT_URL = f"{KC}/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4"
FIXED_NOW = datetime(2025, 5, 20, 9, 30, tzinfo=UTC)


def token(secret: str = SECRET, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": CLIENT_ID, "client_id": CLIENT_ID, "iat": now - 60, "nbf": now - 60, "exp": now + 3600}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, algorithm="HS256")


def fixture(name: str) -> Any:
    """A file under tests/fixtures/ (the simulator itself reads no files); a missing one fails."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def dumps(value: Any) -> str:
    """Order-sensitive comparison key."""
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
def make_sim() -> Callable[..., Any]:
    def make(**overrides: Any) -> Any:
        settings: dict[str, Any] = {"base_url": BASE, "page_size": 3, "id_seed": 7}
        settings.update(overrides)
        clock = settings.pop("clock", lambda: FIXED_NOW)
        return create_simulator(SimulatorConfig(CLIENT_ID, SECRET, **settings), clock=clock)

    return make


@pytest.fixture
def sim(make_sim: Callable[..., Any]) -> Any:
    return make_sim()


def client_for(app: Any, user: str | None = "jjansen", base_url: str = BASE) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token()}"}
    if user is not None:
        headers["X-Esuite-Request-User-Id"] = user
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=base_url, headers=headers)


@pytest.fixture
async def client(sim: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(sim) as c:
        yield c
