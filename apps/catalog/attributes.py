"""Product attributes are JSON validated against the attribute definitions of the product's
category and its ancestors."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from apps.catalog.models import AttributeDefinition, Category
from apps.core.text import PLAIN_DECIMAL


def definitions_for(category: Category) -> list[AttributeDefinition]:
    """Definitions of the category and every ancestor (path prefixes), one query."""
    prefixes = [category.path[:end] for end in range(4, len(category.path) + 1, 4)]
    return list(
        AttributeDefinition.objects.filter(category__path__in=prefixes).order_by(
            "sort_order", "code"
        )
    )


def clean_attribute_value(definition: AttributeDefinition, value: Any) -> Any:
    """The stored form of one value, or ValueError with a message for the client."""
    kind = definition.type
    if kind == AttributeDefinition.Type.TEXT:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(_("Must be text."))
        text = str(value).strip()
        if len(text) > 500:
            raise ValueError(_("At most 500 characters."))
        return text
    if kind == AttributeDefinition.Type.NUMBER:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(_("Must be a number."))
        # text is read as the other number fields read it: digits with an optional point
        # ("1_000", "1e3" and other scripts' digits are refused, not read as 1000 or 10)
        if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value := value.strip()):
            raise ValueError(_("Must be a number."))
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(_("Must be a number.")) from exc
        if not number.is_finite():
            raise ValueError(_("Must be a number."))
        if number.adjusted() > 15 or (number and number.adjusted() < -15):
            raise ValueError(_("The number is out of range."))
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == AttributeDefinition.Type.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError(_("Must be true or false."))
        return value
    if kind == AttributeDefinition.Type.CHOICE:
        if value not in definition.choices:
            raise ValueError(
                _("Must be one of: %(choices)s.")
                % {"choices": ", ".join(map(str, definition.choices))}
            )
        return value
    raise ValueError(_("Unknown attribute type."))


def validate_attributes(
    definitions: list[AttributeDefinition], attributes: Any
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(cleaned attributes, errors by ``attributes.<code>``). Unknown codes are errors;
    required ones must be present."""
    errors: dict[str, list[str]] = {}
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        return {}, {"attributes": [_("Must be an object of attribute codes to values.")]}
    by_code = {d.code: d for d in definitions}
    cleaned: dict[str, Any] = {}
    for code, value in attributes.items():
        definition = by_code.get(code)
        if definition is None:
            errors[f"attributes.{code}"] = [_("Unknown attribute for this category.")]
            continue
        if value is None or value == "":
            if definition.is_required:
                errors[f"attributes.{code}"] = [_("This attribute is required.")]
            continue
        try:
            cleaned[code] = clean_attribute_value(definition, value)
        except ValueError as exc:
            errors[f"attributes.{code}"] = [str(exc)]
    for definition in definitions:
        if definition.is_required and definition.code not in attributes:
            errors[f"attributes.{definition.code}"] = [_("This attribute is required.")]
    return cleaned, errors
