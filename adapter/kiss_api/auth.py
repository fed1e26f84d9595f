"""Inbound authentication (kiss-front.md §2, operations.md SEC-1/SEC-2).

401 only for a missing or unusable header (KISS shows its login screen on any 401); a present
but invalid credential gets 403. Checks run in the spec's order; the first failure decides.
"""

from __future__ import annotations

import collections
import hmac
import math
import numbers
import re

import attrs
import jwt

from adapter.config import Settings
from adapter.esuite_client.client import zgw_jwt
from adapter.mapping.common import OBJECTS_PATH
from adapter.problems import Problem

LEEWAY_SECONDS = 60
IAT_ONLY_LIFETIME_SECONDS = 3600


@attrs.frozen
class Identity:
    client_id: str
    user_id: str | None = attrs.field(default=None, repr=False)
    user_representation: str | None = attrs.field(default=None, repr=False)


def _unauthenticated(detail: str) -> Problem:
    return Problem(401, "not_authenticated", detail=detail, headers={"WWW-Authenticate": "Bearer"})


def _forbidden(code: str, detail: str) -> Problem:
    return Problem(403, code, detail=detail)


VERIFIED_CACHE_SIZE = 4096
# C0, DEL and C1 controls: a user claim goes into an e-Suite header and the audit trail, where
# CR, LF or NUL cannot go (and made every call of that token a 500 before).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class Authenticator:
    def __init__(self, settings: Settings) -> None:
        self._max_authorization = settings.limits.authorization_bytes
        self._secrets = {client.id: client.secret.encode() for client in settings.clients}
        self._objects_tokens = tuple((t.index, t.token.encode()) for t in settings.objects_tokens)
        # Token → what its claims give, for tokens whose signature verified. KISS sends the same
        # token on every call of a session, so decoding and HMAC run once, and so do reading the
        # time claims and the identity (3.5 -> 0.7 µs a request, 2026-12-02); the times are
        # compared with the clock every time.
        self._verified: collections.OrderedDict[str, _Verified] = collections.OrderedDict()

    def authenticate(self, authorization: str | None, path: str, now: float) -> Identity:
        if authorization is None:
            raise _unauthenticated("Geen Authorization-header met een Bearer-token.")
        if len(authorization) > self._max_authorization:
            # Refused before any split, base64 or JSON work (README "Security").
            raise Problem(431, "request-header-too-large", detail="De Authorization-header is te lang.")
        parts = authorization.split(" ")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise _unauthenticated("De Authorization-header is onbruikbaar.")
        scheme, credential = parts[0].lower(), parts[1]
        if scheme == "bearer":
            return self._jwt(credential, now)
        if scheme == "token" and _token_accepted_on(path):
            return self._static_token(credential)
        raise _unauthenticated("Geen Authorization-header met een Bearer-token.")

    def _static_token(self, credential: str) -> Identity:
        given = credential.encode()
        match = None
        for index, token in self._objects_tokens:
            # Compare against every token so timing does not reveal which one was close.
            if hmac.compare_digest(given, token) and match is None:
                match = index
        if match is None:
            raise _forbidden("invalid-token", "Het token is onbekend.")
        return Identity(client_id=f"objects-token-{match}")

    def _jwt(self, token: str, now: float) -> Identity:
        verified = self._verified.get(token)
        if verified is None:
            verified = _Verified.of(*self._verify(token))
            self._verified[token] = verified
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        else:
            self._verified.move_to_end(token)
        # A claim that could not be read (None) is read again: it fails as on the first request.
        _check_times(verified.times if verified.times is not None else _time_claims(verified.claims), now)
        if verified.identity is not None:
            return verified.identity
        return _identity(verified.client_id, verified.claims)

    def _verify(self, token: str) -> tuple[str, dict]:
        """Steps 1–4 of kiss-front.md §2.2: decodable, HS256, known client, valid signature."""
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _forbidden("jwt-decode-error", "Het token kan niet worden gelezen.") from None
        if not isinstance(claims, dict):
            raise _forbidden("jwt-decode-error", "Het token kan niet worden gelezen.")
        if header.get("alg") != "HS256":
            raise _forbidden("invalid-jwt-algorithm", "Alleen HS256-tokens worden geaccepteerd.")
        client_id = claims.get("client_id")
        if not isinstance(client_id, str):
            client_id = claims.get("iss")
        if not isinstance(client_id, str) or client_id == "":
            raise _forbidden("missing-client-identifier", "Het token noemt geen client_id of iss.")
        secret = self._secrets.get(client_id)
        if secret is None:
            raise _forbidden("invalid-client-identifier", "De client is niet bekend.")
        try:
            jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
            )
        except jwt.InvalidSignatureError:
            raise _forbidden("invalid-jwt-signature", "De handtekening van het token klopt niet.") from None
        except jwt.PyJWTError:
            raise _forbidden("jwt-decode-error", "Het token kan niet worden gelezen.") from None
        return client_id, claims


def _time_claim(claims: dict, name: str) -> float | None:
    value = claims.get(name)
    if value is None and name not in claims:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _forbidden("jwt-decode-error", "Een tijdclaim van het token is geen getal.")
    try:
        number = float(value)
    except OverflowError:  # an integer past float's range
        number = math.inf
    if not math.isfinite(number):
        # NaN compares false with everything and Infinity (JSON 1e400) never passes: either
        # would make a token valid forever.
        raise _forbidden("jwt-decode-error", "Een tijdclaim van het token is geen eindig getal.")
    return number


def _time_claims(claims: dict) -> tuple[float | None, float | None, float | None]:
    exp, nbf, iat = (_time_claim(claims, name) for name in ("exp", "nbf", "iat"))
    return exp, nbf, iat


def _check_times(times: tuple[float | None, float | None, float | None], now: float) -> None:
    exp, nbf, iat = times
    if exp is not None and now > exp + LEEWAY_SECONDS:
        raise _forbidden("jwt-expired", "Het token is verlopen.")
    if nbf is not None and now < nbf - LEEWAY_SECONDS:
        raise _forbidden("jwt-not-yet-valid", "Het token is nog niet geldig.")
    if iat is not None and now < iat - LEEWAY_SECONDS:
        raise _forbidden("jwt-not-yet-valid", "Het token is nog niet geldig.")
    if exp is None:
        if iat is None:
            raise _forbidden("jwt-expired", "Het token heeft geen exp en geen iat.")
        if now > iat + IAT_ONLY_LIFETIME_SECONDS + LEEWAY_SECONDS:
            raise _forbidden("jwt-expired", "Het token is verlopen.")


def _identity(client_id: str, claims: dict) -> Identity:
    user_id = claims.get("user_id")
    representation = claims.get("user_representation")
    if any(isinstance(value, str) and _CONTROL.search(value) for value in (user_id, representation)):
        raise _forbidden("jwt-decode-error", "Het token bevat een ongeldige gebruikersnaam.")
    return Identity(
        client_id=client_id,
        user_id=user_id if isinstance(user_id, str) and user_id != "" else None,
        user_representation=representation if isinstance(representation, str) else None,
    )


@attrs.frozen
class _Verified:
    """A verified token's claims, and what they give once read: its time claims and its
    identity, or None where reading failed (the request then reads again, and fails alike)."""

    client_id: str
    claims: dict
    times: tuple[float | None, float | None, float | None] | None
    identity: Identity | None

    @classmethod
    def of(cls, client_id: str, claims: dict) -> _Verified:
        try:
            times = _time_claims(claims)
        except Problem:
            times = None
        try:
            identity = _identity(client_id, claims)
        except Problem:
            identity = None
        return cls(client_id, claims, times, identity)


def _token_accepted_on(path: str) -> bool:
    """kiss-front.md §2.1: `Token` only on `/api/v2/objects` and `/api/v2/objects/{uuid}` (one
    segment, as route 14 matches it); `/{uuid}/history` and the like get 401, not 404."""
    if path == OBJECTS_PATH:
        return True
    segment = path[len(OBJECTS_PATH) + 1 :] if path.startswith(OBJECTS_PATH + "/") else ""
    return segment != "" and "/" not in segment


def mint_token(
    client_id: str,
    secret: str,
    now: float,
    ttl: int = 3600,
    user_id: str = "",
    user_representation: str = "",
) -> str:
    """A ZGW JWT as `token` prints it (operations.md §1) and as KISS sends it."""
    return zgw_jwt(client_id, secret, now, ttl, user_id=user_id, user_representation=user_representation)
