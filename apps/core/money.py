"""Money helpers. Money is ``Decimal`` in TRY: amounts have 2 places, unit prices 4.

Rounding is always ROUND_HALF_UP (commercial rounding), never banker's rounding, and never
through ``float``.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from apps.core.text import plain_int

TWO_PLACES = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")
ZERO = Decimal("0.00")
# the largest amount a money column (14 digits, 2 places) holds: a line, an order's total,
# a ledger entry, a receipt
MAX_AMOUNT = Decimal("999999999999.99")
# the most units one line holds (a cart line, a list line, a quote or order line; the quantity
# a price is explained for)
MAX_LINE_QUANTITY = 1_000_000


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


def part_amounts(
    unit_net, quantity: int, vat_rate: int, *, before: int
) -> tuple[Decimal, Decimal, Decimal]:
    """(net, vat, gross) that ``quantity`` more units add to a line of which ``before`` units
    are counted already: the line's amounts for all of them less those for the ``before``.
    Parts of a line (returns, partial credits) so add up to the line's own amounts to the
    kuruş, however it is split; each part rounded alone could add a kuruş a part."""
    net_after, vat_after, _gross = line_amounts(unit_net, before + quantity, vat_rate)
    net_before, vat_before, _gross = line_amounts(unit_net, before, vat_rate)
    net, vat = net_after - net_before, vat_after - vat_before
    return net, vat, net + vat


def currency() -> str:
    return settings.CURRENCY


CURRENCY_SIGNS = {"TRY": "₺"}


def money_text(amount, *, currency_code: str | None = None) -> str:
    """An amount for people to read: the active language's separators with grouping, two
    decimals (a unit price's third and fourth only when they are not zero, so nothing is
    hidden), and the currency sign: ``1,234.50 ₺`` in English, ``1.234,50 ₺`` in Turkish."""
    value = to_decimal(amount)
    places = 4 if value != value.quantize(TWO_PLACES) else 2
    if places == 4 and value == value.quantize(Decimal("0.001")):
        places = 3
    code = currency_code or currency()
    sign = CURRENCY_SIGNS.get(code, code)
    return f"{number_format(value, places, use_l10n=True, force_grouping=True)} {sign}"


def number_text(value) -> str:
    """A count for people to read, grouped the active language's way (``1,250``)."""
    return number_format(value, 0, use_l10n=True, force_grouping=True)


def quantity_range_error(maximum: int = MAX_LINE_QUANTITY) -> str:
    """The one message for a line's quantity out of range, its bound written the reader's way
    (``1.000.000`` in Turkish)."""
    return _("Enter a quantity from 1 to %(n)s.") % {"n": number_text(maximum)}


# a whole quantity as people type it and spreadsheets write it: "5", "5.0", "5,00"; not
# "1.000", a thousand in Turkish (and one to a program): ambiguous, so refused
_WHOLE_TYPED = re.compile(r"([+-]?[0-9]{1,4000})(?:[.,]0{1,2})?")


def quantity_clean(value, field: str = "quantity", maximum: int = MAX_LINE_QUANTITY) -> int:
    """A line's quantity as every surface that takes typed text reads it (the cart, the quick
    order and its CSV, a requisition list, a quote request, a return, a price explanation): a
    number (``plain_int``: ``5``, ``5.0``) or text of a whole number, ``"5"``, ``"5.0"`` or
    ``"5,00"``, from 1 to ``maximum``; else a field-level error, "Enter a whole number" or the
    range. The portal's forms once read ``5.0`` in one place and refused it in another."""
    # here: the exceptions module reaches the views and the models, which need money
    from apps.core.exceptions import ValidationError

    if isinstance(value, str):
        typed = _WHOLE_TYPED.fullmatch(value.strip())
        number = int(typed.group(1)) if typed else None
    else:
        number = plain_int(value)
    if number is None:
        raise ValidationError({field: [_("Enter a whole number.")]})
    if not 1 <= number <= maximum:
        raise ValidationError({field: [quantity_range_error(maximum)]})
    return number
