"""One builder for the ZGW JWTs (esuite.md §2, operations.md §1): the e-Suite token and the
one the `token` command prints carry the claims in the same order, as before."""

import base64

from adapter.esuite_client.client import EsuiteTokenSource
from adapter.kiss_api.auth import mint_token

NOW = 1764662400.75  # 2025-12-02T08:00:00.75Z


def _payload(token: str) -> bytes:
    segment = token.split(".")[1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _header(token: str) -> bytes:
    segment = token.split(".")[0]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def test_the_esuite_token_claims_in_order():
    bearer = EsuiteTokenSource("adapter-id", "s" * 32, clock=lambda: NOW).bearer()
    assert bearer.startswith("Bearer ")
    token = bearer.removeprefix("Bearer ")
    assert _header(token) == b'{"alg":"HS256","typ":"JWT"}'
    assert _payload(token) == (
        b'{"iss":"adapter-id","client_id":"adapter-id","iat":1764662340,"nbf":1764662340,"exp":1764666000}'
    )


def test_the_kiss_token_claims_in_order():
    token = mint_token("kiss", "s" * 32, NOW, 600, "jjansen", "Jan Jansen")
    assert _payload(token) == (
        b'{"iss":"kiss","client_id":"kiss","user_id":"jjansen","user_representation":"Jan Jansen",'
        b'"iat":1764662340,"nbf":1764662340,"exp":1764663000}'
    )
