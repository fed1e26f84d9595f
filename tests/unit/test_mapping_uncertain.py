"""operations.md §5.4: finding the contact an unanswered create may have made."""

from adapter.mapping.uncertain import matches, newest_match, search_query

SENT = {
    "registratiedatum": "2025-03-18T10:02:17.220Z",
    "kanaal": "Telefoon",
    "type": "Terugbelverzoek",
    "tekst": "Stoeptegels Dorpsstraat",
    "antwoord": "Melding.",
    "status": "nieuw",
    "toelichting": "Graag terugbellen.",
    "afdeling": "Beheer openbare ruimte",
    "contactgegevens": {"emailadres": "f.bakker@example.org", "telefoonnummer": "0612345678"},
}
STORED = {
    "url": "https://esuite.example.org/contactmomenten-api-provider/api/v1/contactmomenten/1",
    "identificatie": "1-2025",
    **{key: value for key, value in SENT.items() if key != "registratiedatum"},
    "registratiedatum": "2025-03-18T11:02:17.220+01:00",
    "onderwerp": "afd:Beheer openbare ruimte",
}


def test_search_uses_type_and_the_phone_number_else_the_email_address():
    assert search_query(SENT) == [("type", "Terugbelverzoek"), ("telefoonnummerOfEmailadres", "0612345678")]
    by_mail = {**SENT, "contactgegevens": {"emailadres": "f.bakker@example.org"}}
    assert search_query(by_mail) == [
        ("type", "Terugbelverzoek"),
        ("telefoonnummerOfEmailadres", "f.bakker@example.org"),
    ]


def test_plain_contactmomenten_and_verzoeken_without_contactgegevens_are_undetectable():
    assert search_query({key: value for key, value in SENT.items() if key != "type"}) is None
    assert search_query({key: value for key, value in SENT.items() if key != "contactgegevens"}) is None


def test_a_match_repeats_every_sent_field_and_the_same_instant():
    assert matches(STORED, SENT)
    assert not matches({**STORED, "toelichting": "Andere"}, SENT)
    assert not matches({**STORED, "groep": "Team Afval"}, SENT)  # absent must stay absent
    assert not matches({**STORED, "registratiedatum": "2025-03-18T11:02:18+01:00"}, SENT)
    assert not matches({**STORED, "status": "in_behandeling"}, SENT)
    with_behandelaar = {**SENT, "behandelaar": {"gebruikersnaam": "pdvries"}}
    assert matches(
        {**STORED, "behandelaar": {"gebruikersnaam": "pdvries", "volledigeNaam": "Piet de Vries"}}, with_behandelaar
    )
    assert not matches(STORED, with_behandelaar)


def test_the_newest_match_wins():
    older = {**STORED, "url": "older"}
    newer = {**STORED, "url": "newer"}
    other = {**STORED, "url": "other", "tekst": "iets anders"}
    assert newest_match([other, older, newer], SENT)["url"] == "older"  # same instant: first listed
    assert newest_match([other], SENT) is None
