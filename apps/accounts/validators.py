"""Turkish tax numbers (VKN for companies, 10 digits; TCKN for persons, 11 digits) and
ISO 3166-1 country codes."""

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
