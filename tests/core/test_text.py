"""``apps.core.text``: what counts as a whole number written in a request."""

import pytest

from apps.core.text import is_digits


@pytest.mark.parametrize("text", ["0", "7", "0042", "12345678901234567890"])
def test_ascii_digits_are_digits(text):
    assert is_digits(text)


@pytest.mark.parametrize("text", ["", " 1", "1 ", "-1", "+1", "1.0", "1_000", "²", "٣", "１", "x"])
def test_anything_else_is_not(text):
    """``str.isdigit`` says yes to ``²`` (``int`` then fails: a 500) and to ``٣`` and ``１``
    (``int`` reads them as 3 and 1)."""
    assert not is_digits(text)
