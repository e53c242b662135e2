"""Money helpers. Money is ``Decimal`` in TRY: amounts have 2 places, unit prices 4.

Rounding is always ROUND_HALF_UP (commercial rounding), never banker's rounding, and never
through ``float``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

TWO_PLACES = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")
ZERO = Decimal("0.00")


def to_decimal(value) -> Decimal:
    """Convert an int, str or Decimal to Decimal. Floats are refused: they are not exact."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (bool, float)):
        raise TypeError("money must not be a float or bool; pass a str, int or Decimal")
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal number: {value!r}") from exc
    else:
        raise TypeError(f"cannot convert {type(value).__name__} to money")
    if not result.is_finite():
        raise ValueError(f"money must be finite, got {value!r}")
    return result


def round2(value) -> Decimal:
    """Round an amount half-up to 2 decimal places (line and order amounts)."""
    return to_decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def round4(value) -> Decimal:
    """Round a unit price half-up to 4 decimal places."""
    return to_decimal(value).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def vat_amount(net, vat_rate: int) -> Decimal:
    """VAT of a net line amount: ``round2(net * rate / 100)``."""
    return round2(to_decimal(net) * Decimal(int(vat_rate)) / Decimal(100))


def line_amounts(unit_net, quantity: int, vat_rate: int) -> tuple[Decimal, Decimal, Decimal]:
    """(line_net, line_vat, line_gross) of ``quantity`` units at ``unit_net``."""
    net = round2(to_decimal(unit_net) * int(quantity))
    vat = vat_amount(net, vat_rate)
    return net, vat, net + vat


def currency() -> str:
    return settings.CURRENCY
