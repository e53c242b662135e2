"""Turkish tax numbers (VKN for companies, 10 digits; TCKN for persons, 11 digits), ISO
3166-1 country codes, and the password complexity rule."""

from __future__ import annotations

import re
import unicodedata

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.tr import tckimlik, vkn

_ASCII_TAX_NUMBER = re.compile(r"[0-9]{10,11}")


def normalize_tax_number(value: str) -> str:
    """The stored form: NFKC (full-width and other compatibility digits become ASCII), any
    other Unicode decimal digit as its ASCII digit, whitespace removed. Anything else (letters,
    punctuation) is kept, so that validation refuses it instead of silently dropping it."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    chars = []
    for char in text:
        if char.isspace():
            continue
        digit = unicodedata.decimal(char, None)
        chars.append(str(digit) if digit is not None else char)
    return "".join(chars)


def validate_tax_number(value: str) -> None:
    number = normalize_tax_number(value)
    if not _ASCII_TAX_NUMBER.fullmatch(number):
        raise ValidationError(
            _("Enter a 10-digit VKN or an 11-digit TCKN."), code="invalid_tax_number"
        )
    module = vkn if len(number) == 10 else tckimlik
    if not module.is_valid(number):
        raise ValidationError(
            _("This tax number fails its check digits."), code="invalid_tax_number"
        )


def validate_country_code(value: str) -> None:
    """An assigned ISO 3166-1 alpha-2 code (``TR``), per the maintained pycountry list:
    user-assigned and unassigned codes such as ``ZZ`` or ``XK`` are refused."""
    if (
        not isinstance(value, str)
        or len(value) != 2
        or not value.isascii()
        or not value.isupper()
        or pycountry.countries.get(alpha_2=value) is None
    ):
        raise ValidationError(
            _("Use an assigned ISO 3166-1 alpha-2 country code, e.g. TR."),
            code="invalid_country",
        )


class PasswordComplexityValidator:
    """DESIGN.md's "complexity rules", beside Django's length, similarity, common-password and
    all-digits validators: at least one letter and at least one digit or symbol, and a
    password is not blank. Eight spaces, eight letters (``qzxwvqzx``) or eight invisible
    characters (U+200B, U+3000) were accepted before."""

    def validate(self, password, user=None):
        letters = any(ch.isalpha() for ch in password)
        others = any(
            not ch.isalpha() and not ch.isspace() and unicodedata.category(ch)[0] in "NPS"
            for ch in password
        )
        if not password.strip() or not letters or not others:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self):
        return _("Your password must contain at least one letter and one digit or symbol.")
