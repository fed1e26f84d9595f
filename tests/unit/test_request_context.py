"""The request id made when a client sends none (kiss-front.md §3.3): a random UUID4 in its
canonical text form, as `str(uuid.uuid4())` writes it."""

import os
import re
import uuid

from adapter.esuite_client.urls import UrlMap
from adapter.kiss_api.request_context import RequestContext, new_request_id, request_id_from

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


def test_new_request_ids_span_reads_of_the_random_source_and_a_fork_makes_its_own():
    from adapter.kiss_api import request_context

    ids = [new_request_id() for _ in range(3 * request_context.IDS_PER_READ + 7)]
    assert len(set(ids)) == len(ids) and all(CANONICAL_V4.match(value) for value in ids)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id is never the parent's next
        os.write(writer, new_request_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(reader, 64).decode() != new_request_id()


def test_a_client_request_id_is_kept_only_in_the_allowed_form():
    assert request_id_from("abc.DEF_1:2-3") == "abc.DEF_1:2-3"
    assert request_id_from("x" * 128) == "x" * 128
    for refused in ("", "x" * 129, "a b", "a/b", "é"):
        assert CANONICAL_V4.match(request_id_from(refused))
    assert CANONICAL_V4.match(request_id_from(None))


# Guard of the per-origin URL map cache (RequestContext.urls_for, bench/README.md "inbound").
def _scope(host: bytes) -> dict:
    return {
        "type": "http",
        "scheme": "http",
        "method": "GET",
        "path": "/x",
        "raw_path": b"/x",
        "headers": [(b"host", host)],
    }


async def _urls_seen(context_app, hosts: list[bytes]) -> list:
    seen = []
    context_app.app = lambda scope, receive, send: _record(seen, scope)
    for host in hosts:
        await context_app(_scope(host), None, None)
    return seen


async def _record(seen: list, scope: dict) -> None:
    seen.append(scope["state"]["call"].urls)


async def test_requests_from_one_origin_share_one_url_map_and_each_origin_is_recognised():
    urls = UrlMap("https://kiss-adapter.example.org", "https://esuite.example.org")
    context_app = RequestContext(None, urls=urls, adapter_base_configured=True)
    first, again, other = await _urls_seen(
        context_app, [b"kiss-adapter.example.org", b"kiss-adapter.example.org", b"other.example:8080"]
    )
    assert first is again
    assert first.request_origins == ("http://kiss-adapter.example.org",)
    assert other.request_origins == ("http://other.example:8080",)
    assert first.to_esuite("http://kiss-adapter.example.org/klanten/api/v1/klanten/1") == (
        "https://esuite.example.org/klanten-api-provider/api/v1/klanten/1"
    )
    assert first.to_esuite("http://other.example:8080/klanten/api/v1/klanten/1") == (
        "http://other.example:8080/klanten/api/v1/klanten/1"
    )
    assert other.to_esuite("http://other.example:8080/klanten/api/v1/klanten/1") == (
        "https://esuite.example.org/klanten-api-provider/api/v1/klanten/1"
    )


async def test_without_adapter_base_url_each_origin_emits_its_own_urls():
    urls = UrlMap("http://localhost", "https://esuite.example.org")
    context_app = RequestContext(None, urls=urls, adapter_base_configured=False)
    one, two, one_again = await _urls_seen(context_app, [b"a.example", b"b.example:81", b"a.example"])
    assert one is one_again
    assert (one.adapter_base, two.adapter_base) == ("http://a.example", "http://b.example:81")
    assert one.to_adapter("https://esuite.example.org/zgw-apis-provider/zrc/api/v1/zaken") == (
        "http://a.example/zaken/api/v1/zaken"
    )


async def test_the_url_maps_kept_are_bounded_whatever_hosts_clients_send():
    urls = UrlMap("https://kiss-adapter.example.org", "https://esuite.example.org")
    context_app = RequestContext(None, urls=urls, adapter_base_configured=True)
    await _urls_seen(context_app, [f"h{index}.example".encode() for index in range(200)])
    assert context_app.urls_for.cache_info().currsize == 64


def test_with_header_is_mutable_headers_setitem():
    """Guard of `with_header` (bench/README.md "The inbound path"): the same list as
    Starlette's `MutableHeaders(scope=message)[name] = value`, the message's own untouched."""
    from starlette.datastructures import MutableHeaders

    from adapter.kiss_api.request_context import with_header

    for headers in (
        [],
        [(b"content-type", b"application/json")],
        ((b"x-request-id", b"old"), (b"a", b"1"), (b"x-request-id", b"older")),
    ):
        ours = {"type": "http.response.start", "headers": headers}
        theirs = {"type": "http.response.start", "headers": headers}
        with_header(ours, b"x-request-id", "r-1")
        MutableHeaders(scope=theirs)["X-Request-ID"] = "r-1"
        assert ours == theirs and ours["headers"] is not headers
