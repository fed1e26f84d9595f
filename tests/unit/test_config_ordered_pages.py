"""ORDERED_LIST_MAX_PAGES: the bound of C-5 ordering (mapping.md C-5, docs/kiss-setup.md §3.2)."""

import pytest

from adapter.config import load_settings
from tests.conftest import fixture_env


def test_default_is_10_pages():
    assert load_settings(fixture_env()).settings.ordered_list_max_pages == 10


@pytest.mark.parametrize("value, pages", [("1", 1), ("25", 25), ("100", 100)])
def test_a_value_from_1_to_100(value, pages):
    assert load_settings(fixture_env(ORDERED_LIST_MAX_PAGES=value)).settings.ordered_list_max_pages == pages


@pytest.mark.parametrize(
    "value, message",
    [
        ("0", "must be from 1 to 100"),
        ("101", "must be from 1 to 100"),
        ("-1", "must be from 1 to 100"),
        ("tien", "must be an integer from 1 to 100"),
        ("2.5", "must be an integer from 1 to 100"),
    ],
)
def test_anything_else_is_refused(value, message):
    result = load_settings(fixture_env(ORDERED_LIST_MAX_PAGES=value))
    assert result.settings is None
    assert [str(f) for f in result.errors] == [f"ERROR ORDERED_LIST_MAX_PAGES: {message}"]
