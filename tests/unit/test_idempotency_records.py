"""The duplicate store's Redis records (operations.md §5.3): the bytes written and read are the
ones earlier versions stored, so replicas of two versions share one Redis during a roll-out."""

from adapter.idempotency import StoredAnswer, UncertainAttempt, _answer_from_json, _record, _uncertain_from_json

STORED_ANSWER = (
    b'{"status":201,"body":"{\\"url\\":\\"https://kiss-adapter.example.org/contactmomenten/api/v1/contactmomenten/'
    b'5f1e\\",\\"tekst\\":\\"Caf\xc3\xa9\\"}","location":"https://kiss-adapter.example.org/contactmomenten/api/v1/'
    b'contactmomenten/5f1e"}'
)
STORED_ANSWER_WITHOUT_LOCATION = b'{"status":400,"body":"{\\"code\\":\\"invalid\\"}","location":null}'
STORED_UNCERTAIN = b'{"esuite_body":{"type":"Terugbelverzoek","tekst":"\xc3\xa9\xc3\xa9n","kanaal":null,"x":[1,2.5]},"sent_at":1764662400.125}'


def test_a_stored_answer_record_is_written_byte_for_byte_as_before():
    answer = StoredAnswer(
        201,
        '{"url":"https://kiss-adapter.example.org/contactmomenten/api/v1/contactmomenten/5f1e","tekst":"Café"}'.encode(),
        "https://kiss-adapter.example.org/contactmomenten/api/v1/contactmomenten/5f1e",
    )
    assert _record(answer) == STORED_ANSWER
    assert _answer_from_json(STORED_ANSWER) == answer


def test_a_stored_answer_without_location_round_trips():
    answer = StoredAnswer(400, b'{"code":"invalid"}', None)
    assert _record(answer) == STORED_ANSWER_WITHOUT_LOCATION
    assert _answer_from_json(STORED_ANSWER_WITHOUT_LOCATION) == answer


def test_an_uncertain_attempt_record_is_written_byte_for_byte_as_before():
    attempt = UncertainAttempt(
        {"type": "Terugbelverzoek", "tekst": "één", "kanaal": None, "x": [1, 2.5]}, 1764662400.125
    )
    assert _record(attempt) == STORED_UNCERTAIN
    assert _uncertain_from_json(STORED_UNCERTAIN) == attempt
