"""Trick (issue 17, fourth pass): a stored create answer's Response is built with its header
list written out instead of Starlette's `init_headers` from a dict. The guard: the very
Response the general construction gives, attribute for attribute, for any stored answer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import Response

from adapter.idempotency import StoredAnswer
from adapter.kiss_api.contactmomenten import _stored_response


def _general(answer: StoredAnswer, replayed: bool) -> Response:
    """The construction the trick replaced (main at 413412b)."""
    headers = {"Location": answer.location} if answer.location else {}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(answer.body, status_code=answer.status, headers=headers, media_type="application/json")


_answers = st.builds(
    StoredAnswer,
    status=st.sampled_from([100, 199, 200, 201, 204, 304, 400, 503]) | st.integers(100, 599),
    body=st.binary(max_size=300),
    location=st.none() | st.text(alphabet=st.characters(max_codepoint=255), max_size=80),
)


@given(_answers, st.booleans())
def test_the_stored_response_is_starlettes_general_one(answer: StoredAnswer, replayed: bool) -> None:
    fast, general = _stored_response(answer, replayed), _general(answer, replayed)
    assert type(fast) is type(general) is Response
    assert vars(fast) == vars(general)


def test_the_created_answers_head_is_the_rules_literal_one() -> None:
    answer = StoredAnswer(201, b'{"url":"x"}', "http://adapter.example/contactmomenten/api/v1/contactmomenten/1")
    assert _stored_response(answer, replayed=True).raw_headers == [
        (b"location", b"http://adapter.example/contactmomenten/api/v1/contactmomenten/1"),
        (b"idempotent-replayed", b"true"),
        (b"content-length", b"11"),
        (b"content-type", b"application/json"),
    ]
    assert _stored_response(answer, replayed=False).raw_headers == [
        (b"location", b"http://adapter.example/contactmomenten/api/v1/contactmomenten/1"),
        (b"content-length", b"11"),
        (b"content-type", b"application/json"),
    ]
    two = _stored_response(answer, replayed=False)
    assert two.raw_headers is not _stored_response(answer, replayed=False).raw_headers  # each its own list


def test_a_location_outside_latin_1_fails_as_starlettes_does() -> None:
    answer = StoredAnswer(201, b"{}", "http://adapter.example/€")
    with pytest.raises(UnicodeEncodeError):
        _general(answer, False)
    with pytest.raises(UnicodeEncodeError):
        _stored_response(answer, False)
