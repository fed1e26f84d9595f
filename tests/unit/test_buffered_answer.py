"""`buffered_answer`: the answer rebuilt with its decoded body in memory (issue 17 guard).

It copies httpx's `Headers` and hands the body over as `stream=ByteStream` instead of letting
httpx normalise every header again and encode `content=`: the headers, their order and case,
the Content-Length added or dropped, and the readable body must be exactly what they were. It
sets the state `Response.read()` leaves instead of reading, and `read_capped` iterates the
transport's stream itself instead of `aiter_raw`: both held to what httpx does here.
"""

from __future__ import annotations

import gzip

import httpx
import pytest

from adapter.config import Limits
from adapter.esuite_client.client import _closed, buffered_answer, read_capped

REQUEST = httpx.Request("GET", "https://esuite.example.org/x")


def answered(headers: list[tuple[bytes, bytes]]) -> httpx.Response:
    return httpx.Response(200, headers=headers, stream=httpx.ByteStream(b"unused"), request=REQUEST)


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        (  # identity with its length: unchanged
            [(b"Content-Type", b"application/json"), (b"Content-Length", b"2"), (b"X-Z", b"1")],
            b"{}",
            [(b"Content-Type", b"application/json"), (b"Content-Length", b"2"), (b"X-Z", b"1")],
        ),
        (  # chunked: the length of the body added at the end, Transfer-Encoding kept as it came
            [(b"Transfer-Encoding", b"chunked"), (b"content-type", b"application/json")],
            b"[1]",
            [(b"Transfer-Encoding", b"chunked"), (b"content-type", b"application/json"), (b"Content-Length", b"3")],
        ),
        (  # gzip: the encoding and its (encoded) length dropped, every copy, the decoded length added
            [
                (b"Content-Encoding", b"gzip"),
                (b"Content-Length", b"20"),
                (b"Vary", b"Accept-Encoding"),
                (b"content-encoding", b"gzip"),
            ],
            b'{"a":1}',
            [(b"Vary", b"Accept-Encoding"), (b"Content-Length", b"7")],
        ),
        (  # no body, no length: none added
            [(b"Server", b"fake")],
            b"",
            [(b"Server", b"fake")],
        ),
    ],
)
def test_headers_and_body_are_those_of_the_answer_in_memory(headers, body, expected):
    response = answered(headers)
    response.extensions["reason_phrase"] = b"OK"
    buffered = buffered_answer(response, body)
    assert buffered.headers.raw == expected
    assert buffered.content == body
    assert buffered.status_code == 200
    assert buffered.request is REQUEST
    assert buffered.extensions == {"reason_phrase": b"OK"}
    assert list(buffered.iter_bytes()) == ([body] if body else [])


async def test_the_buffered_answer_reads_again_asynchronously_and_decodes_text():
    buffered = buffered_answer(answered([(b"Content-Type", b"application/json; charset=utf-8")]), "é".encode())
    assert await buffered.aread() == b"\xc3\xa9"
    assert buffered.text == "é"
    assert buffered.is_closed


@pytest.mark.parametrize("body", [b"", b"{}", b"x" * 70_000])
def test_the_buffered_answer_is_in_exactly_the_state_read_leaves(body):
    """`_read_already` sets what `Response.read()` would: should httpx keep more (or other)
    state after a read, this fails."""
    fast = buffered_answer(answered([(b"Content-Type", b"application/json")]), body)
    slow = httpx.Response(200, headers=fast.headers, stream=httpx.ByteStream(body), request=REQUEST)
    slow.read()
    fast_state, slow_state = vars(fast), vars(slow)
    assert set(slow_state) - {"_decoder"} == set(fast_state)  # the decoder: built for a read, never used again
    for name in fast_state.keys() - {"stream"}:
        assert fast_state[name] == slow_state[name], name
    assert type(fast.stream) is type(slow.stream) is httpx.ByteStream
    assert (fast.content, fast.is_closed, fast.is_stream_consumed, fast.num_bytes_downloaded) == (
        body,
        True,
        True,
        len(body),
    )
    assert fast.read() == body


class Chunks(httpx.AsyncByteStream):
    def __init__(self, *chunks: bytes | Exception) -> None:
        self.chunks = chunks
        self.closed = False

    async def __aiter__(self):
        for chunk in self.chunks:
            if isinstance(chunk, Exception):
                raise chunk
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def streamed(stream: httpx.AsyncByteStream, headers: list[tuple[bytes, bytes]] | None = None) -> httpx.Response:
    return httpx.Response(200, headers=headers or [], stream=stream, request=REQUEST)


async def test_read_capped_reads_the_transports_stream_as_aiter_raw_would():
    """`_raw_chunks`: the transport's stream iterated directly; the answer marked consumed (a
    second read refused as httpx refuses it), its closing left to the caller."""
    stream = Chunks(b"ab", b"", b"cd")
    response = streamed(stream)
    assert await read_capped(response, Limits()) == b"abcd"
    assert response.is_stream_consumed
    assert not response.is_closed and not stream.closed
    with pytest.raises(httpx.StreamConsumed):
        await read_capped(response, Limits())
    await response.aclose()
    assert stream.closed


async def test_read_capped_of_a_closed_answer_is_refused_as_httpx_refuses_it():
    response = streamed(Chunks(b"ab"))
    await response.aclose()
    with pytest.raises(httpx.StreamClosed):
        await read_capped(response, Limits())


async def test_an_error_while_reading_carries_the_request_and_gzip_is_decoded_from_raw_chunks():
    with pytest.raises(httpx.ReadError) as raised:
        await read_capped(streamed(Chunks(b"ab", httpx.ReadError("reset"))), Limits())
    assert raised.value.request is REQUEST
    packed = gzip.compress(b'{"a": 1}')
    gzipped = streamed(Chunks(packed[:5], packed[5:]), [(b"Content-Encoding", b"gzip")])
    assert await read_capped(gzipped, Limits()) == b'{"a": 1}'


def test_the_headers_encoding_is_kept_only_when_no_header_is_dropped():
    """httpx decodes header values in the encoding it finds over all of them: the copy keeps
    the answer's when nothing is dropped, and finds its own when a dropped header decided it."""
    kept = buffered_answer(answered([(b"X-Naam", "é".encode())]), b"{}")
    assert (kept.headers.encoding, kept.headers["x-naam"]) == ("utf-8", "é")
    source = answered([(b"Content-Encoding", b"gzip\xe9"), (b"X-Naam", "é".encode())])
    assert source.headers.encoding == "iso-8859-1"  # b"\xe9" alone is no UTF-8
    dropped = buffered_answer(source, b"{}")
    assert (dropped.headers.encoding, dropped.headers["x-naam"]) == ("utf-8", "é")
    assert dropped.headers.raw == [(b"X-Naam", "é".encode()), (b"Content-Length", b"2")]


class FailingClose(Chunks):
    async def aclose(self) -> None:
        self.closed = True
        raise httpx.ReadError("reset while closing")


async def test_closing_a_read_answer_closes_its_stream_once_as_aclose_does():
    """`_closed`: what `Response.aclose()` does for an answer `read_capped` read."""
    stream = Chunks(b"ab")
    response = streamed(stream)
    await read_capped(response, Limits())
    await _closed(response)
    assert response.is_closed and stream.closed
    stream.closed = False
    await _closed(response)  # closed already: nothing more, as `aclose`
    await response.aclose()
    assert not stream.closed
    failing = streamed(FailingClose(b"ab"))
    with pytest.raises(httpx.ReadError) as raised:
        await _closed(failing)
    assert raised.value.request is REQUEST
    assert failing.is_closed
