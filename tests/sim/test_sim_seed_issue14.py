"""The seed as docs/simulator.md describes it: esuite.md §8.6 plus the stated additions.

Issue 14 found the seed had drifted from §8.6 (6 contacts instead of 4 contactverzoeken and
1 contactmoment) without anyone saying so. The drift is now a decision; this pins it, so the
next change of the seed is a deliberate one.
"""

from __future__ import annotations

from tests.sim.conftest import BASE, CM, KC, ZRC

ZAAK = f"{ZRC}/zaken/a177c7fa-bb70-4d42-9584-6b099e87512b"
KLANT = f"{KC}/klanten/d72e7265-3b76-4410-a9aa-54e20528a3f4"


async def test_the_seeded_contacts_links_and_zaak(client):
    state = (await client.get(f"{BASE}/_sim/state")).json()
    contacts = {(c["url"].rsplit("/", 1)[1], c.get("type"), c["status"]) for c in state["contacts"]}
    assert contacts == {
        # esuite.md §8.6: the four contactverzoeken …
        ("b54a7b40-f8f1-4167-9a3a-5bddd4d4d9c3", "Terugbelverzoek", "nieuw"),
        ("6b49ddb3-f8be-452d-92ba-f780ee8d49db", "Contactverzoek", "in_behandeling"),
        ("141a574c-6013-48f9-9d3d-db0e887e2603", "Terugbelverzoek", "nieuw"),
        ("9202e9b2-43d7-4554-88e7-4d7d7cbc4049", "Terugbelverzoek", "nieuw"),
        # … and contactmoment b2272f29; plus (docs/simulator.md) the zaak's contactmoment cb7b21e1
        ("b2272f29-1e69-411e-b853-1e0156652230", None, "afgehandeld"),
        ("cb7b21e1-708d-4ea3-8d81-147dd041f296", None, "afgehandeld"),
    }
    assert sorted(
        (link["klant"], link["contactmoment"].rsplit("/", 1)[1]) for link in state["klantcontactmomenten"]
    ) == [
        (KLANT, "b2272f29-1e69-411e-b853-1e0156652230"),
        (KLANT, "b54a7b40-f8f1-4167-9a3a-5bddd4d4d9c3"),
        (KLANT, "cb7b21e1-708d-4ea3-8d81-147dd041f296"),
    ]
    assert [(link["object"], link["contactmoment"]) for link in state["objectcontactmomenten"]] == [
        (ZAAK, f"{CM}/contactmomenten/cb7b21e1-708d-4ea3-8d81-147dd041f296")
    ]
    assert [klant["url"] for klant in state["klanten"]] == [KLANT]
    assert [zaak["url"] for zaak in state["zaken"]] == [ZAAK]
    # §8.4: 6b49ddb3 only for pdvries and jjansen
    assert [c.get("_allowedUsers") for c in state["contacts"] if "6b49ddb3" in c["url"]] == [["pdvries", "jjansen"]]
