"""The request id made when a client sends none (kiss-front.md §3.3): a random UUID4 in its
canonical text form, as `str(uuid.uuid4())` writes it."""

import re
import uuid

from adapter.kiss_api.request_context import new_request_id, request_id_from

CANONICAL_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_a_new_request_id_is_a_canonical_random_uuid4():
    ids = [new_request_id() for _ in range(2000)]
    assert all(CANONICAL_V4.match(value) for value in ids)
    parsed = [uuid.UUID(value) for value in ids]
    assert {(u.version, u.variant) for u in parsed} == {(4, uuid.RFC_4122)}
    assert [str(u) for u in parsed] == ids
    assert len(set(ids)) == 2000
    # The 122 random bits vary: every hex digit outside the fixed ones takes many values.
    assert all(len({value[i] for value in ids}) == 16 for i in (0, 9, 15, 20, 35))


def test_a_client_request_id_is_kept_only_in_the_allowed_form():
    assert request_id_from("abc.DEF_1:2-3") == "abc.DEF_1:2-3"
    assert request_id_from("x" * 128) == "x" * 128
    for refused in ("", "x" * 129, "a b", "a/b", "é"):
        assert CANONICAL_V4.match(request_id_from(refused))
    assert CANONICAL_V4.match(request_id_from(None))
