"""Each inbound authentication outcome, through the real app (kiss-front.md §2)."""

import time

import httpx
import jwt
import pytest

from tests.conftest import KISS_CLIENT, KISS_SECRET, OBJECTS_TOKEN, app_client, kiss_token

pytestmark = pytest.mark.anyio

PASSTHROUGH = "/catalogi/api/v1/zaaktypen"


def upstream_ok() -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, json={"count": 0, "results": []}))


def token(claims: dict, secret: str = KISS_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def claims(**overrides) -> dict:
    now = int(time.time())
    base = {
        "iss": KISS_CLIENT,
        "client_id": KISS_CLIENT,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "user_id": "jjansen",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


async def call(authorization: str | None, path: str = PASSTHROUGH) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with app_client(upstream_ok()) as client:
        return await client.get(path, headers=headers)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["type"] == f"urn:kiss-esuite-adapter:fout:{code}"
    assert body["instance"].startswith("urn:uuid:")
    return body


async def test_valid_token_is_accepted():
    response = await call(f"Bearer {kiss_token()}")
    assert response.status_code == 200


async def test_scheme_is_case_insensitive():
    assert (await call(f"bearer {kiss_token()}")).status_code == 200


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer a b"])
async def test_missing_or_unusable_header_is_401_with_www_authenticate(header):
    response = await call(header)
    body = assert_problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert body["title"] == "Authenticatiegegevens zijn niet opgegeven."


async def test_unknown_path_without_credentials_is_401_not_404():
    assert_problem(await call(None, "/nergens"), 401, "not_authenticated")
    assert_problem(await call(f"Bearer {kiss_token()}", "/nergens"), 404, "not_found")


@pytest.mark.parametrize(
    "make_token, code",
    [
        (lambda: "not-a-jwt", "jwt-decode-error"),
        (lambda: token(claims(), algorithm="HS512"), "invalid-jwt-algorithm"),
        (lambda: jwt.encode(claims(), None, algorithm="none"), "invalid-jwt-algorithm"),
        (lambda: token(claims(iss=None, client_id=None)), "missing-client-identifier"),
        (lambda: token(claims(iss="stranger", client_id="stranger")), "invalid-client-identifier"),
        (lambda: token(claims(), secret="wrong-secret-0123456789abcdefghijklmnop"), "invalid-jwt-signature"),
        (lambda: token(claims(exp=int(time.time()) - 61)), "jwt-expired"),
        (lambda: token(claims(exp=None, iat=int(time.time()) - 3661)), "jwt-expired"),
        (lambda: token(claims(exp=None, iat=None)), "jwt-expired"),
        (lambda: token(claims(nbf=int(time.time()) + 120)), "jwt-not-yet-valid"),
        (lambda: token(claims(iat=int(time.time()) + 120)), "jwt-not-yet-valid"),
        (lambda: token(claims(exp="morgen")), "jwt-decode-error"),
    ],
    ids=[
        "garbage",
        "hs512",
        "alg-none",
        "no-client",
        "unknown-client",
        "bad-signature",
        "expired",
        "old-iat-without-exp",
        "neither-exp-nor-iat",
        "nbf-future",
        "iat-future",
        "non-numeric-exp",
    ],
)
async def test_present_but_invalid_credentials_are_403(make_token, code):
    body = assert_problem(await call(f"Bearer {make_token()}"), 403, code)
    assert body["title"] == "Geen toegang."


async def test_leeway_of_60_seconds_on_exp_and_nbf():
    now = int(time.time())
    assert (await call(f"Bearer {token(claims(exp=now - 50))}")).status_code == 200
    assert (await call(f"Bearer {token(claims(nbf=now + 50))}")).status_code == 200


async def test_client_id_decides_over_iss():
    assert (await call(f"Bearer {token(claims(iss='stranger'))}")).status_code == 200
    assert_problem(
        await call(f"Bearer {token(claims(iss=KISS_CLIENT, client_id='stranger'))}"), 403, "invalid-client-identifier"
    )


async def test_expired_detail_texts():
    body = assert_problem(await call(f"Bearer {token(claims(exp=int(time.time()) - 120))}"), 403, "jwt-expired")
    assert body["detail"] == "Het token is verlopen."
    body = assert_problem(await call(f"Bearer {token(claims(exp=None, iat=None))}"), 403, "jwt-expired")
    assert body["detail"] == "Het token heeft geen exp en geen iat."


async def test_static_token_only_on_objects():
    assert_problem(await call(f"Token {OBJECTS_TOKEN}"), 401, "not_authenticated")
    # §2.1/§2.3: only the collection and /{uuid}; any deeper path is "Token outside" (issue 14).
    for path in ("/api/v2/objects/nope/history", "/api/v2/objects/", "/api/v2/objects/a/b", "/api/v2/objectsx"):
        response = await call(f"Token {OBJECTS_TOKEN}", path)
        assert_problem(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"] == "Bearer"
    assert_problem(await call(f"Token {OBJECTS_TOKEN}", "/api/v2/objects/nope"), 404, "not_found")  # route 14
    assert_problem(await call("Token wrong-token", "/api/v2/objects"), 403, "invalid-token")


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
async def test_operational_endpoints_are_anonymous(path):
    assert (await call(None, path)).status_code == 200


async def test_auth_failures_are_counted_by_code():
    async with app_client(upstream_ok()) as client:
        await client.get(PASSTHROUGH, headers={"Authorization": "Bearer nope"})
        metrics = (await client.get("/metrics")).text
    assert 'kiss_adapter_auth_failures_total{code="jwt-decode-error"} 1.0' in metrics


async def test_auth_failures_on_the_objects_api_carry_content_crs():
    missing = await call(None, "/api/v2/objects")
    refused = await call("Token wrong-token", "/api/v2/objects/6b49ddb3-f8be-452d-92ba-f780ee8d49db")
    assert (missing.status_code, missing.headers["content-crs"]) == (401, "EPSG:4326")
    assert (refused.status_code, refused.headers["content-crs"]) == (403, "EPSG:4326")
    assert "content-crs" not in (await call(None)).headers
