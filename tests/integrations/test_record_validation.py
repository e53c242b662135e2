"""The feeds' record validation (plain Python, for speed) answers as the DRF field of the same
kind would: the same values accepted, the same values refused with the same message."""

from __future__ import annotations

import pytest
from django.utils import translation
from rest_framework import serializers

from apps.catalog.models import VatRate
from apps.integrations.api.base import (
    Boolean,
    Choice,
    FieldError,
    Integer,
    JSONObject,
    Text,
    TextList,
)
from apps.integrations.api.feeds import PRICE_RECORD, PRODUCT_RECORD, STOCK_RECORD

ODD = [  # None is the record's concern (allow_null), not the field's: see below
    True,
    False,
    0,
    7,
    -3,
    12.0,
    12.5,
    1e20,
    "",
    "  ",
    " ab ",
    "12",
    "12.0",
    " 12 ",
    "12.",
    "1e3",
    "1_000",
    "x" * 11,
    "yes",
    "On",
    "tRuE",
    "0",
    [],
    ["a"],
    {},
    {"a": 1},
    "9" * 1001,
]


def _parity(ours, drf, value):
    try:
        expected = drf.run_validation(value)
    except serializers.ValidationError as exc:
        with pytest.raises(FieldError) as raised:
            ours.clean(value)
        messages = exc.detail if isinstance(exc.detail, list) else next(iter(exc.detail.values()))
        assert raised.value.messages == str(messages[0]), value
    else:
        assert ours.clean(value) == expected, value


@pytest.mark.parametrize("value", ODD)
def test_text_answers_as_drf_char_field(value):
    _parity(Text(max_length=10), serializers.CharField(max_length=10), value)


@pytest.mark.parametrize("value", ODD)
def test_integer_answers_as_drf_integer_field(value):
    _parity(
        Integer(min_value=1, max_value=100),
        serializers.IntegerField(min_value=1, max_value=100),
        value,
    )


@pytest.mark.parametrize("value", [*ODD, 20, "20", "abc"])
def test_choice_answers_as_drf_choice_field(value):
    """(Except that whole-number choices read ``20.0`` as 20: see below.)"""
    _parity(
        Choice(choices=VatRate.choices), serializers.ChoiceField(choices=VatRate.choices), value
    )


@pytest.mark.parametrize("value", [*ODD, 1, 1.0, "t", "N", "off", 2])
def test_boolean_answers_as_drf_boolean_field(value):
    _parity(Boolean(), serializers.BooleanField(), value)


@pytest.mark.parametrize("value", ["a", 3, {}, {"k": [1]}, []])
def test_json_object_answers_as_drf_dict_field(value):
    _parity(JSONObject(), serializers.DictField(), value)


@pytest.mark.parametrize("value", ["a", {}, [], ["a", " b "], ["a"] * 4, [1, 2.5]])
def test_text_list_answers_as_drf_list_field(value):
    _parity(
        TextList(item=Text(max_length=5), max_items=3),
        serializers.ListField(child=serializers.CharField(max_length=5), max_length=3),
        value,
    )


def test_a_record_reports_every_field_by_name_with_drf_messages():
    _data, errors = PRODUCT_RECORD.validate(
        {
            "sku": "  ",
            "name": None,
            "category": "A > B",
            "unit": "crate",
            "vat_rate": "20",
            "barcodes": ["ok", "x" * 65, None],
            "is_active": "maybe",
            "colour": "red",
        }
    )
    assert errors == {
        "sku": ["This field may not be blank."],
        "name": ["This field may not be null."],
        "unit": ['"crate" is not a valid choice.'],
        "barcodes.1": ["Ensure this field has no more than 64 characters."],
        "barcodes.2": ["This field may not be null."],
        "is_active": ["Must be a valid boolean."],
        "colour": ["Unknown or read-only field."],
    }


def test_an_optional_field_left_out_is_left_out_and_values_are_cleaned():
    data, errors = PRODUCT_RECORD.validate(
        {"sku": " P-1 ", "name": 12, "category": "A", "unit": "piece", "vat_rate": "20"}
    )
    assert errors == {}
    assert data == {"sku": "P-1", "name": "12", "category": "A", "unit": "piece", "vat_rate": 20}


def test_null_and_surrogate_characters_are_refused_by_name():
    _data, errors = STOCK_RECORD.validate(
        {"sku": "A\x00B", "warehouse": "W\ud800", "on_hand": True, "serial_numbers": None}
    )
    assert errors == {
        "sku": ["Null characters are not allowed."],
        "warehouse": ["Surrogate characters are not allowed: U+D800."],
        "on_hand": ["A valid integer is required."],
    }


def test_messages_are_in_the_language_of_the_request():
    with translation.override("tr"):
        _data, errors = PRICE_RECORD.validate({"sku": "P-1", "price_list": "LIST"})
        required = str(serializers.CharField().error_messages["required"])
    assert errors["min_quantity"] == [required] and required != "This field is required."


@pytest.mark.parametrize("sent", [20, "20", 20.0, "20.00"])
def test_a_whole_number_choice_is_read_as_the_whole_number_whatever_its_spelling(sent):
    """A JSON ``20.0`` is the VAT rate 20, as an integer field reads it; 20.5 and 18 are not."""
    base = {"sku": "P-1", "name": "N", "category": "A", "unit": "piece"}
    data, errors = PRODUCT_RECORD.validate({**base, "vat_rate": sent})
    assert errors == {} and data["vat_rate"] == 20
    for wrong in (20.5, "20.5", 18.0, True, "2e1"):
        assert "vat_rate" in PRODUCT_RECORD.validate({**base, "vat_rate": wrong})[1], wrong
