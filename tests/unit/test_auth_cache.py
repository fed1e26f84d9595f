"""Guard of the verified-token cache (Authenticator._verified, bench/README.md "The inbound
path"): a token's identity and time claims are read once, its times compared every request,
and a claim that cannot be read fails alike on every request."""

import jwt
import pytest

from adapter.kiss_api.auth import Authenticator
from adapter.problems import Problem
from tests.conftest import KISS_CLIENT, KISS_SECRET, fixture_settings

PATH = "/contactmomenten/api/v1/contactmomenten"
NOW = 1_800_000_000.0


def _bearer(**claims) -> str:
    payload = {"client_id": KISS_CLIENT, "iat": NOW, "exp": NOW + 3600, "user_id": "jjansen", **claims}
    return "Bearer " + jwt.encode({k: v for k, v in payload.items() if v is not None}, KISS_SECRET, algorithm="HS256")


def _refusal(authenticator: Authenticator, authorization: str, now: float) -> tuple[int, str, str | None]:
    with pytest.raises(Problem) as raised:
        authenticator.authenticate(authorization, PATH, now)
    return raised.value.status, raised.value.code, raised.value.detail


def test_a_token_seen_again_gives_the_identity_read_the_first_time():
    authenticator = Authenticator(fixture_settings())
    token = _bearer(user_representation="J. Jansen")
    first = authenticator.authenticate(token, PATH, NOW)
    again = authenticator.authenticate(token, PATH, NOW + 10)
    assert again is first
    assert (first.client_id, first.user_id, first.user_representation) == (KISS_CLIENT, "jjansen", "J. Jansen")


def test_the_times_of_a_known_token_are_compared_on_every_request():
    authenticator = Authenticator(fixture_settings())
    token = _bearer(nbf=NOW + 30)
    assert authenticator.authenticate(token, PATH, NOW).client_id == KISS_CLIENT
    assert _refusal(authenticator, token, NOW + 3600 + 61) == (403, "jwt-expired", "Het token is verlopen.")
    assert _refusal(authenticator, token, NOW - 31) == (403, "jwt-not-yet-valid", "Het token is nog niet geldig.")
    assert authenticator.authenticate(token, PATH, NOW + 3600 + 59).client_id == KISS_CLIENT


@pytest.mark.parametrize(
    ("claims", "detail"),
    [
        ({"exp": "morgen"}, "Een tijdclaim van het token is geen getal."),
        ({"user_id": "j\njansen"}, "Het token bevat een ongeldige gebruikersnaam."),
        # Both: the time claim is read first, as before the cache.
        ({"iat": True, "user_representation": "J.\x00"}, "Een tijdclaim van het token is geen getal."),
    ],
)
def test_a_claim_that_cannot_be_read_is_refused_alike_on_every_request(claims, detail):
    authenticator = Authenticator(fixture_settings())
    token = _bearer(**claims)
    refusals = [_refusal(authenticator, token, NOW + offset) for offset in (0, 1, 2)]
    assert refusals == [(403, "jwt-decode-error", detail)] * 3


def test_a_known_token_without_exp_expires_an_hour_after_iat():
    authenticator = Authenticator(fixture_settings())
    token = _bearer(exp=None)
    assert authenticator.authenticate(token, PATH, NOW + 3600 + 59).user_id == "jjansen"
    assert _refusal(authenticator, token, NOW + 3600 + 61) == (403, "jwt-expired", "Het token is verlopen.")
