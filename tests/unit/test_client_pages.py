"""`EsuiteClient.pages`: one page iterator for every "read pages while `next`" walk; each
caller keeps its own link check (SEC-15) and bound."""

import httpx
import pytest

from adapter.esuite_client.client import CallContext, EsuiteClient, EsuiteTokenSource, ListAbsent
from adapter.esuite_client.urls import UrlMap
from adapter.metrics import Metrics
from adapter.problems import Problem

pytestmark = pytest.mark.anyio

BASE = "https://esuite.example.org"
LIST = BASE + "/contactmomenten-api-provider/api/v1/objectcontactmomenten"


def _client(pages: dict[str, httpx.Response], seen: list[str]) -> EsuiteClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return pages[str(request.url)]

    return EsuiteClient(
        EsuiteTokenSource("adapter", "secret-" * 6),
        Metrics(),
        timeout_seconds=5,
        max_connections=2,
        transport=httpx.MockTransport(handler),
    )


def _page(results: list, next_link) -> httpx.Response:
    return httpx.Response(200, json={"count": 9, "next": next_link, "previous": None, "results": results})


def _call() -> CallContext:
    return CallContext("request-1", UrlMap("https://kiss-adapter.example.org", BASE))


def _under_list(next_link, pages_read: int) -> str | None:
    return next_link if isinstance(next_link, str) and next_link.startswith(LIST + "?") else None


async def _walk(esuite: EsuiteClient, **options) -> list[list]:
    try:
        return [page.results async for page in esuite.pages(_call(), LIST, [("object", "a b")], **options)]
    finally:
        await esuite.aclose()


async def test_pages_reads_the_first_page_with_params_then_each_next_as_given():
    seen: list[str] = []
    esuite = _client(
        {
            LIST + "?object=a%20b": _page([1, 2], LIST + "?object=a+b&page=2"),
            LIST + "?object=a+b&page=2": _page([3], LIST + "?object=a+b&page=3"),
            LIST + "?object=a+b&page=3": _page([4], None),
        },
        seen,
    )
    assert await _walk(esuite, follow=_under_list) == [[1, 2], [3], [4]]
    assert seen == [LIST + "?object=a%20b", LIST + "?object=a+b&page=2", LIST + "?object=a+b&page=3"]


async def test_pages_stops_where_follow_declines_a_link():
    seen: list[str] = []
    esuite = _client(
        {LIST + "?object=a%20b": _page([1], "https://elders.example.org/objectcontactmomenten?page=2")}, seen
    )
    assert await _walk(esuite, follow=_under_list) == [[1]]
    assert len(seen) == 1


async def test_pages_reads_at_most_limit_pages_and_asks_follow_with_the_pages_read():
    seen: list[str] = []
    asked: list[int] = []

    def follow(next_link, pages_read):
        asked.append(pages_read)
        return next_link

    esuite = _client(
        {
            LIST + "?object=a%20b": _page([1], LIST + "?page=2"),
            LIST + "?page=2": _page([2], LIST + "?page=3"),
            LIST + "?page=3": _page([3], LIST + "?page=4"),
        },
        seen,
    )
    assert await _walk(esuite, follow=follow, limit=2) == [[1], [2]]
    assert (len(seen), asked) == (2, [1])


async def test_pages_a_refused_link_is_the_problem_follow_raises():
    def refuse(next_link, pages_read):
        raise Problem(502, "upstream-invalid-url")

    esuite = _client({LIST + "?object=a%20b": _page([1], BASE + "/elders")}, [])
    with pytest.raises(Problem) as raised:
        await _walk(esuite, follow=refuse)
    assert (raised.value.status, raised.value.code) == (502, "upstream-invalid-url")


async def test_pages_an_absent_status_raises_list_absent_any_other_failure_is_the_upstream_problem():
    absent = _client({LIST + "?object=a%20b": httpx.Response(404, json={"detail": "weg"})}, [])
    with pytest.raises(ListAbsent):
        await _walk(absent, follow=_under_list, absent=frozenset({404}))
    failing = _client({LIST + "?object=a%20b": httpx.Response(404, json={"detail": "weg"})}, [])
    with pytest.raises(Problem) as raised:
        await _walk(failing, follow=_under_list)
    assert raised.value.status == 404


async def test_pages_a_page_without_the_list_envelope_is_502():
    esuite = _client({LIST + "?object=a%20b": httpx.Response(200, json={"results": []})}, [])
    with pytest.raises(Problem) as raised:
        await _walk(esuite, follow=_under_list)
    assert (raised.value.status, raised.value.code) == (502, "upstream-invalid-response")
