"""``apps.core.text``: what counts as a whole number written in a request."""

import pytest

from apps.core.text import email_address, is_digits


@pytest.mark.parametrize("text", ["0", "7", "0042", "12345678901234567890"])
def test_ascii_digits_are_digits(text):
    assert is_digits(text)


@pytest.mark.parametrize("text", ["", " 1", "1 ", "-1", "+1", "1.0", "1_000", "²", "٣", "１", "x"])
def test_anything_else_is_not(text):
    """``str.isdigit`` says yes to ``²`` (``int`` then fails: a 500) and to ``٣`` and ``１``
    (``int`` reads them as 3 and 1)."""
    assert not is_digits(text)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Owner@Example.COM", "owner@example.com"),
        (" owner@ｅxample.com ", "owner@example.com"),  # full-width: NFKC
        ("FİNANCE@İŞYERİ.COM.TR", "finance@xn--iyeri-jdb.com.tr"),  # Turkish caps lock
        ("fınance@işyeri.com.tr", "finance@xn--iyeri-jdb.com.tr"),
        ("a@faß.de", "a@xn--fa-hia.de"),  # IDNA 2008: not fass.de, another owner's
        ("a@example.com.", "a@example.com"),
    ],
)
def test_an_email_address_has_one_stored_form(typed, stored):
    assert email_address(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "a@example.com\u200b",
        "a\u00ad@example.com",
        "a b@example.com",
        "ğ@example.com",
        "a@-bad-.com",
        "a@",
        "example.com",
    ],
)
def test_an_email_address_that_hides_or_cannot_be_stored_is_refused(typed):
    with pytest.raises(ValueError):
        email_address(typed)
