"""C-5 global ordering and the adapter's own pages of an ordered list (adapter/mapping/paging.py)."""

from __future__ import annotations

import pytest

from adapter.mapping import paging
from adapter.mapping.paging import EsuitePage, ReadPlan
from adapter.problems import Problem

A = "https://kiss-adapter.example.org"
ROUTE = "/contactmomenten/api/v1/contactmomenten"
E = "https://esuite.example.org/contactmomenten-api-provider/api/v1/contactmomenten"


def contact(n: int, date: str | None = None) -> dict:
    item = {"url": f"{E}/{n}"}
    if date is not None:
        item["registratiedatum"] = date
    return item


def first_page(count: int, size: int, has_next: bool = True) -> EsuitePage:
    return EsuitePage(count, [contact(n) for n in range(size)], f"{E}?page=2" if has_next else None, None)


def problem_of(function, *args) -> Problem:
    with pytest.raises(Problem) as raised:
        function(*args)
    return raised.value


# --- read_plan --------------------------------------------------------------------------------


def test_C5_one_esuite_page_reads_nothing_more():
    assert paging.read_plan(first_page(3, 3, has_next=False), 10) == ReadPlan(3, (), 1, False)
    # An empty list: one page, and page size 1 so that page 2 is past the end.
    assert paging.read_plan(EsuitePage(0, [], None, None), 10) == ReadPlan(1, (), 1, False)


def test_C5_count_gives_the_pages_to_read_concurrently():
    assert paging.read_plan(first_page(45, 20), 10) == ReadPlan(20, (2, 3), 3, False)
    assert paging.read_plan(first_page(200, 20), 10) == ReadPlan(20, tuple(range(2, 11)), 10, False)


def test_C5_past_the_bound_reads_the_bound_and_says_truncated():
    assert paging.read_plan(first_page(201, 20), 10) == ReadPlan(20, tuple(range(2, 11)), 11, True)
    # A hostile count cannot make the adapter read more than the bound.
    assert paging.read_plan(first_page(10**12, 20), 3) == ReadPlan(20, (2, 3), 5 * 10**10, True)


def test_C5_huge_esuite_pages_are_bounded_by_contacts_too():
    # 2000 contacts at most: pages of 500 allow 4, pages of 5000 only the first
    assert paging.read_plan(first_page(10_000, 500), 10) == ReadPlan(500, (2, 3, 4), 20, True)
    assert paging.read_plan(first_page(10_000, 5000), 10) == ReadPlan(5000, (), 2, True)
    assert paging.read_plan(first_page(2000, 20), 100) == ReadPlan(20, tuple(range(2, 101)), 100, False)


def test_C5_a_next_link_with_a_count_that_disagrees_still_reads_page_2():
    assert paging.read_plan(first_page(5, 20), 10) == ReadPlan(20, (2,), 2, False)


def test_C5_unusable_first_pages_are_502():
    assert problem_of(paging.read_plan, EsuitePage(40, [], f"{E}?page=2", None), 10).code == "upstream-invalid-response"
    assert problem_of(paging.read_plan, EsuitePage(40, [contact(1)], 2, None), 10).code == "upstream-invalid-response"


# --- merged_results -----------------------------------------------------------------------------


def test_C5_merged_keeps_read_order_and_drops_a_contact_seen_twice():
    # A contact created while reading a newest-first e-Suite pushes 3 from page 1 to page 2.
    merged = paging.merged_results([[contact(1), contact(2), contact(3)], [contact(3), contact(4)]])
    assert [item["url"] for item in merged] == [f"{E}/1", f"{E}/2", f"{E}/3", f"{E}/4"]


@pytest.mark.parametrize("bad", ["text", None, {"url": 7}, {"kanaal": "Telefoon"}])
def test_C5_every_item_read_must_be_a_contact_with_a_url(bad):
    assert problem_of(paging.merged_results, [[contact(1)], [bad]]).code == "upstream-invalid-response"


# --- sorting ----------------------------------------------------------------------------------


def test_C5_sort_is_by_instant_stable_and_undated_last():
    items = [
        contact(0, "2025-03-01T10:00:00+01:00"),  # 09:00 UTC
        contact(1, "2025-03-01T09:30:00Z"),
        contact(2),
        contact(3, "2025-03-01T10:00:00"),  # no offset: Amsterdam, 09:00 UTC, same instant as 0
        contact(4, "gisteren"),
    ]
    newest = paging.sort_by_registratiedatum(items, descending=True)
    oldest = paging.sort_by_registratiedatum(items, descending=False)
    assert [item["url"][-1] for item in newest] == ["1", "0", "3", "2", "4"]
    assert [item["url"][-1] for item in oldest] == ["0", "3", "1", "2", "4"]


# --- ordered_page ---------------------------------------------------------------------------


def dated(count: int) -> list[dict]:
    return [contact(n, f"2025-01-{n + 1:02d}T12:00:00Z") for n in range(count)]


def test_C5_pages_of_the_sorted_list_with_the_esuite_page_size():
    items = dated(7)
    plan = ReadPlan(3, (2, 3), 3, False)
    pages = [paging.ordered_page(items, number, plan, 7) for number in (None, 2, 3)]
    assert [[item["url"][-1] for item in page.results] for page in pages] == [["0", "1", "2"], ["3", "4", "5"], ["6"]]
    assert [(page.count, page.next_page, page.previous_page) for page in pages] == [
        (7, 2, None),
        (7, 3, 1),
        (7, None, 2),
    ]


def test_C5_count_is_the_number_of_distinct_contacts_when_all_pages_were_read():
    page = paging.ordered_page(dated(5), 1, ReadPlan(3, (2,), 2, False), 6)  # one contact came twice
    assert (page.count, page.next_page) == (5, 2)


def test_C5_a_page_past_the_end_is_404():
    assert problem_of(paging.ordered_page, dated(6), 3, ReadPlan(3, (2,), 2, False), 6).status == 404
    assert paging.ordered_page([], 1, ReadPlan(1, (), 1, False), 0).results == []


def test_C5_past_the_bound_count_is_the_esuites_and_next_leads_on():
    plan = ReadPlan(3, (2,), 5, True)
    last_sorted = paging.ordered_page(dated(6), 2, plan, 14)
    assert (last_sorted.count, last_sorted.next_page, last_sorted.previous_page) == (14, 3, 1)
    assert paging.beyond_sorted_pages(3, plan) and not paging.beyond_sorted_pages(2, plan)
    assert not paging.beyond_sorted_pages(None, plan)


def test_C5_fallback_page_is_sorted_within_itself_with_the_esuites_links():
    page = EsuitePage(
        14,
        [contact(7, "2025-01-07T00:00:00Z"), contact(9, "2025-01-09T00:00:00Z"), contact(8, "2025-01-08T00:00:00Z")],
        f"{E}?klant=k&page=4",
        f"{E}?klant=k&page=2",
    )
    served = paging.esuite_fallback_page(page, descending=True)
    assert [item["url"][-1] for item in served.results] == ["9", "8", "7"]
    assert (served.count, served.next_page, served.previous_page) == (14, 4, 2)
    last = paging.esuite_fallback_page(EsuitePage(14, [], None, f"{E}?klant=k"), descending=True)
    assert (last.next_page, last.previous_page) == (None, 1)


# --- e-Suite queries and adapter links --------------------------------------------------------------


def test_C5_esuite_page_query_replaces_or_appends_page():
    base = [("type", "Terugbelverzoek"), ("klant", "k")]
    assert paging.esuite_page_query(base, 1) == base
    assert paging.esuite_page_query(base, 3) == base + [("page", "3")]
    with_page = [("type", "Terugbelverzoek"), ("page", "7"), ("klant", "k")]
    assert paging.esuite_page_query(with_page, 1) == [("type", "Terugbelverzoek"), ("page", "1"), ("klant", "k")]
    assert paging.esuite_page_query(with_page, 2) == [("type", "Terugbelverzoek"), ("page", "2"), ("klant", "k")]


def test_C6_links_of_a_page_the_adapter_cut():
    inbound = [
        ("klant", "https://kiss-adapter.example.org/klanten/api/v1/klanten/1"),
        ("ordering", "-registratiedatum"),
    ]
    links = paging.page_links(A, ROUTE, inbound, paging.ServedPage([], 7, 2, None))
    assert links.previous is None
    assert links.next == (
        f"{A}{ROUTE}?klant=https%3A%2F%2Fkiss-adapter.example.org%2Fklanten%2Fapi%2Fv1%2Fklanten%2F1"
        "&ordering=-registratiedatum&page=2"
    )
    middle = paging.page_links(
        A, ROUTE, [("page", "2"), ("ordering", "registratiedatum")], paging.ServedPage([], 9, 3, 1)
    )
    assert (middle.next, middle.previous) == (
        f"{A}{ROUTE}?page=3&ordering=registratiedatum",
        f"{A}{ROUTE}?page=1&ordering=registratiedatum",
    )
