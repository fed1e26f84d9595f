"""`buffered_answer`: the answer rebuilt with its decoded body in memory (issue 17 guard).

It copies httpx's `Headers` and hands the body over as `stream=ByteStream` instead of letting
httpx normalise every header again and encode `content=`: the headers, their order and case,
the Content-Length added or dropped, and the readable body must be exactly what they were.
"""

from __future__ import annotations

import httpx
import pytest

from adapter.esuite_client.client import buffered_answer

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
