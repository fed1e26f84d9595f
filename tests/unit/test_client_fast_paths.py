"""The e-Suite call's fourth-pass fast paths (issue 17, bench/README.md "Performance tricks").

Each is held to the general way it replaces, which stays in the code for a changed httpx (the
module's `FAST_HEADERS` / `_CONTENT_ATTRIBUTE` off): the request's headers encoded once into
httpx's header list, one scan for Content-Length and Content-Encoding, the buffered answer's
headers copied once, an identity body's one chunk returned as it is, `EsuiteAuth`'s one step
applied without its generator, the timeout dict written out.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.config import Limits
from adapter.esuite_client import client as client_module
from adapter.esuite_client.client import (
    CallContext,
    EsuiteAuth,
    EsuiteClient,
    EsuiteTokenSource,
    RefusedUrl,
    UnusableAnswer,
    _Exchange,
    _framing,
    _outbound_request,
    buffered_answer,
    read_capped,
)
from adapter.esuite_client.urls import UrlMap
from adapter.metrics import Metrics

BASE = "https://esuite.example.org"
ROOT = f"{BASE}/contactmomenten-api-provider/api/v1"
URL = f"{ROOT}/contactmomenten"

_TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-ABCXYZ0123456789", min_size=1, max_size=12)
_NAMES = st.one_of(
    _TOKEN, st.sampled_from(["Content-Length", "content-length", "Content-Encoding", "CONTENT-ENCODING", "Host"])
)
_VALUES = st.one_of(st.text(alphabet=st.characters(max_codepoint=127), max_size=12), st.binary(max_size=12))


def test_the_fast_paths_work_with_the_installed_httpx():
    assert client_module.FAST_HEADERS is True
    assert client_module._CONTENT_ATTRIBUTE is True


def exchange(method: str, headers: dict, content: bytes | None) -> _Exchange:
    call = CallContext("req-1", UrlMap("https://kiss-adapter.example.org", BASE))
    return _Exchange(
        call=call,
        method=method,
        url=URL,
        target="contactmomenten",
        content=content,
        headers=headers,
        stream=False,
        auth=httpx.Auth(),
        deadline=0.0,
        breaker=None,  # type: ignore[arg-type]
    )


def both_ways(build):
    """`build()` with the fast paths on, then off (the general way)."""
    fast = build()
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(client_module, "FAST_HEADERS", False)
        patched.setattr(client_module, "_CONTENT_ATTRIBUTE", False)
        general = build()
    return fast, general


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "post"]),
    names=st.lists(_NAMES, max_size=6),
    values=st.lists(_VALUES, min_size=6, max_size=6),
    content=st.one_of(st.none(), st.binary(max_size=20)),
)
def test_a_requests_headers_are_those_httpx_builds_from_the_pairs(method, names, values, content):
    headers = dict(
        zip(names, values, strict=False)
    )  # names as given: `_prepared` lowers them, the encoding must not rely on it
    fast, general = both_ways(lambda: _outbound_request(exchange(method, headers, content), {}))
    assert fast.headers._list == general.headers._list
    assert fast.headers.raw == general.headers.raw
    assert (fast.headers.encoding, fast.headers.multi_items()) == (
        general.headers.encoding,
        general.headers.multi_items(),
    )
    assert (fast.method, fast.url, fast.content, fast.read()) == (
        general.method,
        general.url,
        general.content,
        b"".join([content or b""]),
    )
    assert isinstance(fast.stream, httpx.ByteStream)


def test_request_headers_httpx_refuses_are_refused_alike(monkeypatch):
    for headers, error in (({"x-naam": "é"}, UnicodeEncodeError), ({"x-getal": 1}, TypeError)):
        for fast in (True, False):
            with monkeypatch.context() as patched:
                patched.setattr(client_module, "FAST_HEADERS", fast)
                with pytest.raises(error):
                    _outbound_request(exchange("GET", headers, None), {})


def test_a_request_gets_the_headers_httpx_would_add_in_its_order():
    request = _outbound_request(exchange("POST", {"accept": "application/json", "x-id": b"\xc3\xa9"}, b"{}"), {})
    assert request.headers.raw == [
        (b"Host", b"esuite.example.org"),
        (b"accept", b"application/json"),
        (b"x-id", b"\xc3\xa9"),
        (b"Content-Length", b"2"),
    ]
    assert request.headers["x-id"] == "é"
    empty = _outbound_request(exchange("POST", {}, None), {})
    assert (empty.headers.raw, empty.content) == ([(b"Host", b"esuite.example.org"), (b"Content-Length", b"0")], b"")


_ANSWER_HEADERS = st.lists(
    st.tuples(
        _NAMES.map(str.encode),
        st.one_of(
            st.sampled_from([b"12", b"gzip", b"identity", b" GZIP ", b"", b"\xe9", b"\xc3\xa9"]), st.binary(max_size=6)
        ),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(headers=_ANSWER_HEADERS)
def test_framing_is_the_two_lookups(headers):
    answer = httpx.Headers(headers)
    assert _framing(answer) == (answer.get("content-length"), answer.get("content-encoding"))


@settings(max_examples=300, deadline=None)
@given(headers=_ANSWER_HEADERS, body=st.binary(max_size=8), computed=st.booleans())
def test_the_buffered_answer_is_the_general_ways(headers, body, computed):
    def build() -> httpx.Response:
        response = httpx.Response(
            200, headers=headers, stream=httpx.ByteStream(b"x"), request=httpx.Request("GET", URL)
        )
        if computed:
            response.headers.encoding  # noqa: B018 (found before the copy, as a look-up finds it)
        return buffered_answer(response, body)

    fast, general = both_ways(build)
    assert fast.headers.raw == general.headers.raw
    assert fast.headers._list == general.headers._list
    assert fast.headers.encoding == general.headers.encoding
    assert fast.headers.multi_items() == general.headers.multi_items()
    assert (fast.content, fast.is_closed, fast.is_stream_consumed) == (general.content, True, True)


class Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list) -> None:
        self.chunks = chunks

    async def __aiter__(self):
        for chunk in self.chunks:
            yield chunk
            if isinstance(chunk, bytearray):
                chunk[:] = b"?" * len(chunk)  # a transport reusing its buffer


@settings(max_examples=200, deadline=None)
@given(
    chunks=st.lists(st.one_of(st.binary(max_size=8), st.binary(max_size=8).map(bytearray)), max_size=5),
    compressed=st.integers(0, 30),
    decoded=st.integers(0, 30),
)
def test_an_identity_body_is_its_chunks_joined_under_both_caps(chunks, compressed, decoded):
    expected = b"".join(bytes(chunk) for chunk in chunks)
    response = httpx.Response(200, stream=Chunks(chunks), request=httpx.Request("GET", URL))
    limits = Limits(answer_compressed_bytes=compressed, answer_bytes=decoded)
    if len(expected) > compressed or len(expected) > decoded:
        with pytest.raises(UnusableAnswer):
            asyncio.run(read_capped(response, limits))
    else:
        body = asyncio.run(read_capped(response, limits))
        assert (type(body), body) == (bytes, expected)


def test_an_identity_bodys_one_chunk_is_returned_as_it_is():
    chunk = b"x" * 1000
    response = httpx.Response(200, stream=Chunks([chunk]), request=httpx.Request("GET", URL))
    assert asyncio.run(read_capped(response, Limits())) is chunk


def test_a_read_answer_is_found_read_both_ways(monkeypatch):
    for fast in (True, False):
        monkeypatch.setattr(client_module, "_CONTENT_ATTRIBUTE", fast)
        assert client_module._was_read(httpx.Response(200, content=b"{}")) is True
        assert client_module._was_read(httpx.Response(200, stream=httpx.ByteStream(b"{}"))) is False


class ViaFlow(EsuiteAuth):
    """An `EsuiteAuth` that `_sent` drives through the generic flow (not the exact type)."""


class Seen:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, headers={"content-type": "application/json"}, content=b"{}")


@pytest.mark.parametrize("user_id", [None, "", "medewerker@example.org", "Jöke"])
@pytest.mark.parametrize("given_user", [None, "ander"])
async def test_esuite_auth_applied_directly_sends_what_its_flow_sends(user_id, given_user):
    tokens = EsuiteTokenSource("c", "s" * 40, clock=lambda: 1_700_000_000.0)
    sent = []
    for auth in (EsuiteAuth(tokens, ROOT, user_id), ViaFlow(tokens, ROOT, user_id)):
        seen = Seen()
        esuite = EsuiteClient(
            tokens, Metrics(), timeout_seconds=5, max_connections=2, transport=httpx.MockTransport(seen)
        )
        headers = {client_module.USER_HEADER: given_user} if given_user else None
        await esuite.send(
            CallContext("req-1", UrlMap("https://kiss-adapter.example.org", BASE), user_id),
            "GET",
            URL,
            target="contactmomenten",
            headers=headers,
            auth=auth,
        )
        sent.append(seen.requests[0].headers.raw)
    assert sent[0] == sent[1]
    users = [value for name, value in sent[0] if name.lower() == client_module.USER_HEADER.lower().encode()]
    assert users == ([user_id.encode()] if user_id else [])


@pytest.mark.parametrize("auth_type", [EsuiteAuth, ViaFlow])
async def test_esuite_auth_applied_directly_refuses_a_url_outside_its_root(auth_type):
    tokens = EsuiteTokenSource("c", "s" * 40)
    seen = Seen()
    esuite = EsuiteClient(tokens, Metrics(), timeout_seconds=5, max_connections=2, transport=httpx.MockTransport(seen))
    with pytest.raises(RefusedUrl):
        await esuite._sent(
            httpx.Request("GET", f"{BASE}/zaken-api-provider/api/v1/zaken"), auth_type(tokens, ROOT, None)
        )
    assert seen.requests == []


@pytest.mark.parametrize(("budget", "connect"), [(3.0, 3.0), (7.5, 5.0)])
async def test_an_attempts_timeouts_are_httpx_timeouts_of_what_is_left(budget, connect):
    seen = Seen()
    esuite = EsuiteClient(
        EsuiteTokenSource("c", "s" * 40),
        Metrics(),
        timeout_seconds=budget,
        max_connections=2,
        transport=httpx.MockTransport(seen),
        monotonic=lambda: 100.0,
    )
    await esuite.send(
        CallContext("req-1", UrlMap("https://kiss-adapter.example.org", BASE)), "GET", URL, target="contactmomenten"
    )
    timeouts = seen.requests[0].extensions["timeout"]
    assert timeouts == {"connect": connect, "read": budget, "write": budget, "pool": budget}
    assert list(timeouts) == list(httpx.Timeout(budget, connect=connect).as_dict())


def test_a_changed_httpx_structure_turns_the_fast_paths_off_instead_of_failing(monkeypatch):
    from adapter.esuite_client import url_objects

    original = httpx.Headers.__init__

    def renamed(self, headers=None, encoding=None):
        original(self, headers, encoding)
        self._items = self.__dict__.pop("_list")  # a future httpx's other name

    monkeypatch.setattr(httpx.Headers, "__init__", renamed)
    assert url_objects._headers_works_with_this_httpx() is False
    monkeypatch.undo()
    monkeypatch.setattr(httpx.Response, "content", property(lambda self: self.__dict__["_body"]))
    assert client_module._content_attribute_works_with_this_httpx() is False


@settings(max_examples=300, deadline=None)
@given(
    present=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    b"Authorization",
                    b"authorization",
                    b"X-Esuite-Request-User-Id",
                    b"x-esuite-request-user-id",
                    b"Accept",
                ]
            ),
            st.sampled_from([b"old", b"\xc3\xa9", b"\xe9"]),
        ),
        max_size=4,
    ),
    user_id=st.one_of(st.none(), st.just(""), st.text(max_size=6).filter(lambda text: "\x00" not in text)),
    computed=st.booleans(),
)
def test_esuite_auths_headers_are_those_httpx_sets(present, user_id, computed):
    tokens = EsuiteTokenSource("c", "s" * 40, clock=lambda: 1_700_000_000.0)

    def build() -> httpx.Request:
        request = httpx.Request("GET", URL, headers=[(b"Host", b"esuite.example.org"), *present])
        if computed:
            request.headers.encoding  # noqa: B018 (found before, as a look-up would)
        try:
            EsuiteAuth(tokens, ROOT, user_id).apply(request)
        except UnicodeEncodeError:  # a lone surrogate: httpx cannot encode it either
            return None
        return request

    fast, general = both_ways(build)
    if general is None:
        assert fast is None
        return
    assert fast.headers._list == general.headers._list
    assert fast.headers.encoding == general.headers.encoding
    assert fast.headers["authorization"] == tokens.bearer()
