"""Turkish tax numbers: VKN (companies, 10 digits) or TCKN (persons, 11 digits)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.tr import tckimlik, vkn


def normalize_tax_number(value: str) -> str:
    return "".join(str(value or "").split())


def validate_tax_number(value: str) -> None:
    number = normalize_tax_number(value)
    if not number.isdigit() or len(number) not in (10, 11):
        raise ValidationError(
            _("Enter a 10-digit VKN or an 11-digit TCKN."), code="invalid_tax_number"
        )
    module = vkn if len(number) == 10 else tckimlik
    if not module.is_valid(number):
        raise ValidationError(
            _("This tax number fails its check digits."), code="invalid_tax_number"
        )
