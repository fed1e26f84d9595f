"""The pure mapping path of one S1, S2 and S3 request, without I/O: an A/B for `adapter/mapping`
changes, far quieter than `bench.inprocess`, whose whole-request figures a few per cent drown in.

    .venv/bin/python -m bench.mapping_path [--against DIR] [--rounds 8]

Each scenario runs the steps its route takes between the e-Suite's bytes and the answer's,
on `bench/canned.py`'s answers: S1 the inbound query, the list query, the e-Suite query and
its SEC-15 check, the envelope, the C-6 links, R-2 and the rendering with RW-4; S2 the body
parsed, V/P rules, and the created contact mapped and rendered; S3 the Objects query, the
e-Suite query, 50 klant look-up queries and their answers, the 50 rows and their rendering.
timeit, min of 5, in µs per request.

`--against DIR` runs the same steps on the code in DIR as well (another commit's tree, e.g.
`git archive main | tar -x -C DIR`), alternating the two in fresh processes `--rounds` times,
checks that both give the same bytes, and prints min and median of each and their ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable

SCENARIOS = ("S1", "S2", "S3")
_ONCE = "__mapping_path_once__"


def steps() -> dict[str, Callable[[], bytes]]:
    """The three mapping paths, built from the canned answers (imports the code under test)."""
    from datetime import UTC, datetime
    from urllib.parse import quote

    import orjson

    from adapter.esuite_client.urls import UrlMap
    from adapter.mapping import (
        common,
        contact_create,
        contactmoment_lists,
        contactmoment_read,
        interne_taak_read,
        objects_query,
        paging,
    )
    from adapter.mapping import query as q
    from adapter.mapping.paths import is_under_root
    from bench import canned

    esuite, adapter = "http://127.0.0.1:9999", "http://127.0.0.1:8000"
    answers, urls = canned.Canned(esuite), UrlMap(adapter, esuite)
    klant_page, verzoeken = orjson.loads(answers.klant_page), orjson.loads(answers.verzoeken_page)
    lookups = {url: orjson.loads(body) for url, body in answers.klant_links.items()}
    klant = f"{adapter}/klanten/api/v1/klanten/{canned.KLANT_UUID}"
    s1_query = f"klant={quote(klant, safe='')}".encode()
    s3_query = f"type={quote(canned.INTERNE_TAAK_TYPE, safe='')}&data_attr=betrokkene__digitaleAdressen__icontains__{canned.PHONE}"
    body, created = canned.contactverzoek_body().encode(), orjson.loads(answers.created[0])
    types, root, now = (
        ("Terugbelverzoek", "Contactverzoek"),
        urls.esuite_root("contactmomenten"),
        datetime(2025, 3, 20, tzinfo=UTC),
    )
    route = "/contactmomenten/api/v1/contactmomenten"

    def s1() -> bytes:
        pairs = q.parse_client_query(s1_query)
        query = contactmoment_lists.parse_contactmomenten_list_query(pairs, urls)
        assert is_under_root(f"{root}/contactmomenten?{q.encode_query(query.upstream)}", root)
        page = paging.esuite_page(klant_page)
        links = [paging.pagination_link(adapter, route, pairs, link) for link in (page.next, page.previous)]
        items = contactmoment_lists.ordered(contactmoment_read.contacts_for_kiss(page.results, urls), query.ordering)
        return urls.rendered({"count": page.count, "next": links[0], "previous": links[1], "results": items})

    def s2() -> bytes:
        kiss = common.json_object(common.parse_json_body(body))
        contact = contact_create.build_esuite_contact(kiss, types)
        return orjson.dumps(contact) + orjson.dumps(contactmoment_read.created_contactmoment(created, urls, None))

    def s3() -> bytes:
        pairs = q.parse_client_query(s3_query.encode())
        query = objects_query.parse_interne_taken_query(pairs, types, urls)
        assert is_under_root(f"{root}/contactmomenten?{q.encode_query(query.upstream)}", root)
        page = paging.esuite_page(verzoeken)
        klanten = {}
        for url in interne_taak_read.klant_lookup_urls(page.results, query.klant_filter):
            assert is_under_root(f"{root}/klantcontactmomenten?{q.encode_query([('contactmoment', url)])}", root)
            klanten[url] = interne_taak_read.klant_from_lookup(lookups[url], url, urls)
        rows = interne_taak_read.interne_taken_from_esuite(
            page.results, canned.INTERNE_TAAK_TYPE, query.klant_filter, klanten, urls, now
        )
        link = paging.pagination_link(adapter, common.OBJECTS_PATH, pairs, page.next)
        return orjson.dumps({"count": page.count, "next": link, "previous": None, "results": rows})

    return {"S1": s1, "S2": s2, "S3": s3}


def measure() -> dict[str, tuple[float, str]]:
    """µs per request (timeit, min of 5) and a digest of the bytes, per scenario."""
    result = {}
    for name, run in steps().items():
        timer = timeit.Timer(run)
        number, _ = timer.autorange()
        result[name] = (min(timer.repeat(5, number)) / number * 1e6, hashlib.sha256(run()).hexdigest())
    return result


def measure_in(code_dir: str) -> dict[str, tuple[float, str]]:
    """`measure()` in a fresh process importing the code in `code_dir` (this file's steps)."""
    script = "import runpy, sys; sys.path.insert(0, sys.argv[1]); runpy.run_path(sys.argv[2], run_name=sys.argv[3])"
    here = os.path.abspath(__file__)
    done = subprocess.run(
        [sys.executable, "-c", script, code_dir, here, _ONCE], cwd=code_dir, capture_output=True, text=True, check=True
    )
    measured = json.loads(done.stdout.splitlines()[-1])
    return {name: (value, digest) for name, (value, digest) in measured.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--against", help="another checkout's directory, measured alternately with this one")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    this = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sides = [("this", this)] + ([("other", os.path.abspath(args.against))] if args.against else [])
    runs: dict[str, list[dict[str, tuple[float, str]]]] = {side: [] for side, _ in sides}
    for index in range(args.rounds if args.against else 1):
        for side, directory in sides if index % 2 == 0 else sides[::-1]:
            runs[side].append(measure_in(directory))
    for name in SCENARIOS:
        line = []
        for side, _ in sides:
            values = [run[name][0] for run in runs[side]]
            line.append(f"{side} min {min(values):.1f} median {statistics.median(values):.1f} µs")
        if args.against:
            this_min = min(run[name][0] for run in runs["this"])
            other_min = min(run[name][0] for run in runs["other"])
            same = {run[name][1] for side in runs for run in runs[side]}
            line.append(
                f"this/other x{this_min / other_min:.2f} by min; bytes {'equal' if len(same) == 1 else 'DIFFER'}"
            )
        print(f"{name}: " + "; ".join(line))


if __name__ == _ONCE:
    print(json.dumps(measure()))
elif __name__ == "__main__":
    main()
