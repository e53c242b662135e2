"""Base serializers shared by every API."""

from __future__ import annotations

import copy
import decimal
import unicodedata

from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import QueryDict
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.utils.formatting import lazy_format

from apps.core.text import (
    PLAIN_DATE,
    PLAIN_DATETIME,
    PLAIN_DECIMAL,
    PLAIN_INTEGER,
    control_problem,
    phone_problem,
    postal_code_problem,
)


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know (400 naming them), so a
    client trying to write ``credit_limit`` or ``customer`` is told, not silently ignored.
    Fields listed in ``echo_fields`` (read-only parts of the output, such as ``id``) may be
    sent back and are ignored (not when ``context["creating"]``: a new object has no output
    to echo, and an ``id`` sent to a create is refused, not ignored); given the object's
    output as ``context["current"]``, an echoed value that differs from it is refused (a
    client changing an e-mail is told it cannot, not answered 200 with nothing changed). A
    JSON body's values have the schema's types: text is a string (not a number) and a
    boolean ``true`` or ``false`` (not 0, 1 or "yes")."""

    echo_fields: tuple[str, ...] = ()
    default_error_messages = {
        "unknown_field": _("Unknown or read-only field."),
        "read_only": _("Read-only: it cannot be changed here."),
    }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            echoes = () if self.context.get("creating") else self.echo_fields
            known = set(self.fields) | set(echoes)
            unknown = [name for name in data if name not in known]
            if unknown:
                raise serializers.ValidationError(
                    {name: [self.error_messages["unknown_field"]] for name in unknown},
                    code="unknown_field",
                )
            current = self.context.get("current")
            if isinstance(current, dict):
                changed = [
                    name
                    for name in self.echo_fields
                    if name in data and name in current and data[name] != current[name]
                ]
                if changed:
                    raise serializers.ValidationError(
                        {name: [self.error_messages["read_only"]] for name in changed},
                        code="read_only",
                    )
            # the JSON type the schema says: DRF's CharField takes a number as its text and
            # its BooleanField 0, 1 and "yes" (a form's fields are all text: only CharField's
            # rule holds for them)
            checks = [
                (
                    serializers.CharField,
                    str,
                    serializers.CharField.default_error_messages["invalid"],
                )
            ]
            if not isinstance(data, QueryDict):
                checks.append((serializers.BooleanField, bool, _("Must be true or false.")))
            wrong = {
                name: [str(message)]
                for field_class, kind, message in checks
                for name, field in self.fields.items()
                if isinstance(field, field_class)
                and not field.read_only
                and data.get(name) is not None
                and not isinstance(data.get(name), kind)
            }
            if wrong:
                raise serializers.ValidationError(wrong, code="invalid")
        return super().to_internal_value(data)


class OptionalTextField(serializers.CharField):
    """Free text a client may leave out, send empty or send as ``null`` (a note): each is no
    text, ``""``. Some notes took ``null`` and others answered 400 for it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", "")
        super().__init__(allow_blank=True, allow_null=True, **kwargs)

    def validate_empty_values(self, data):
        if data is None:
            return True, ""
        return super().validate_empty_values(data)


class NoInputSerializer(StrictInputSerializer):
    """The body of an action that takes none: no body, or an empty object. Any field is
    refused by name, a JSON value that is not an object and a body that is not JSON answer
    400, before the action runs."""


def validated(serializer_class: type[serializers.Serializer], data, **kwargs) -> dict:
    """``data`` checked by ``serializer_class`` (400 with field-level messages): its
    ``validated_data``."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def no_input(request) -> None:
    """For an action that takes no input, before it acts: reading the body parses it (a
    malformed one answers 400 ``parse_error``) and anything in it is refused, as every other
    endpoint refuses what it does not accept."""
    validated(NoInputSerializer, request.data)


def only_fields(request, allowed: set[str]) -> None:
    """A form body (multipart: its files too) that holds nothing but ``allowed``: an unknown
    field is refused by name, as a JSON body's is (the quick-order upload took 1,000 junk
    fields beside its file)."""
    unknown = sorted(str(name) for name in request.data if name not in allowed)
    if unknown:
        raise serializers.ValidationError(
            {name: [_("Unknown or read-only field.")] for name in unknown}
        )


def decimal_output_unbounded() -> None:
    """Figures the API computes (a unit's gross price, a line of a large quantity, an
    available credit) may have more digits than the column their field was modelled on.
    DRF quantizes with ``max_digits`` as the precision and raises ``InvalidOperation`` (a
    500) then. Input is not affected: ``validate_precision`` refuses too many digits before
    ``quantize`` runs. So a figure that does not fit ``max_digits`` is written out in full,
    rounded to ``decimal_places`` (installed once, by the core app)."""
    field = serializers.DecimalField
    if getattr(field.quantize, "unbounded", False):
        return
    bounded = field.quantize

    def quantize(self, value):
        try:
            return bounded(self, value)
        except decimal.InvalidOperation:
            if self.decimal_places is None or not value.is_finite():
                raise
            exponent = decimal.Decimal(1).scaleb(-self.decimal_places)
            return value.quantize(exponent, rounding=self.rounding or decimal.ROUND_HALF_UP)

    quantize.unbounded = True
    field.quantize = quantize


def phone_number(value: str) -> None:
    """A field's validator for a phone number as people write it (``phone_problem``; blank
    passes: the field says whether one is required)."""
    if problem := phone_problem(value):
        raise serializers.ValidationError(problem, code="invalid")


def postal_code_form(value: str) -> None:
    """A field's validator for a postal code of any country (``postal_code_problem``; blank
    passes)."""
    if problem := postal_code_problem(value):
        raise serializers.ValidationError(problem, code="invalid")


def one_line(value: str) -> None:
    """A field's validator for one line of text (a name, a code, a tracking number): no tab
    or line break either (``control_problem``)."""
    problem = control_problem(value, single_line=True)
    if problem:
        raise serializers.ValidationError(problem, code="invalid")


def text_input_readable() -> None:
    """Text in the API's input is taken in NFC and holds no control character but tabs and line
    breaks (``control_problem``): a SKU, a code or a name with U+0001 in it was stored,
    could not be asked for in a URL and garbled the CSV exports. DRF's ``CharField`` refuses
    NUL and lone surrogates itself. Not text taken as typed (``trim_whitespace=False``: the
    passwords). Installed once, by the core app, on DRF's own field (its subclasses: e-mail,
    slug, URL...), so that no serializer can forget it."""
    field = serializers.CharField
    if getattr(field.to_internal_value, "readable", False):
        return
    read = field.to_internal_value

    def to_internal_value(self, data):
        value = read(self, data)
        if not self.trim_whitespace:
            # text taken as typed (a password: compared, hashed, never shown): a sign-in
            # with one is a wrong password (401), not a 400 the right one never meets
            return value
        problem = control_problem(value)
        if problem:
            raise serializers.ValidationError(problem, code="invalid")
        # composed, as the feeds and the forms take text: "Ç" sent as C and a combining
        # cedilla is the "Ç" stored (a name, a city: searched and compared as typed)
        return unicodedata.normalize("NFC", value) if not value.isascii() else value

    to_internal_value.readable = True
    field.to_internal_value = to_internal_value


def number_input_plain() -> None:
    """Numbers in the API's input as people and programs write them: ASCII digits, a sign, a
    decimal point between digits. Python's ``Decimal()`` and ``int()``, which DRF's fields call,
    also read ``1_000``, ``１`` or ``١`` (other scripts' digits), ``1.`` and ``.5`` and ``1e3``:
    a payment of ``"1_000"`` was booked as 1,000.00. Those answer 400 now, as the portal, the
    CSV import and the query parameters already did; and ``-0`` is stored and answered as
    ``0`` (it was echoed ``-0.00``). Installed once, by the core app, on DRF's own fields, so
    that no serializer can forget it."""
    decimal_field, integer_field = serializers.DecimalField, serializers.IntegerField
    if getattr(decimal_field.to_internal_value, "plain", False):
        return
    decimal_read, integer_read = decimal_field.to_internal_value, integer_field.to_internal_value

    def decimal_to_internal_value(self, data):
        # text only: a JSON number (1e-05, 1000.0) is a number, whose own rules DRF applies
        text = data.strip() if isinstance(data, str) else ""
        too_long = len(text) > self.MAX_STRING_LENGTH  # DRF's own message for that
        if isinstance(data, str) and not too_long and not PLAIN_DECIMAL.fullmatch(text):
            self.fail("invalid")
        value = decimal_read(self, data)
        return value.copy_abs() if value is not None and value.is_zero() else value

    def integer_to_internal_value(self, data):
        too_long = isinstance(data, str) and len(data) > self.MAX_STRING_LENGTH
        if isinstance(data, str) and not too_long and not PLAIN_INTEGER.fullmatch(data.strip()):
            self.fail("invalid")
        return integer_read(self, data)

    decimal_to_internal_value.plain = True
    decimal_field.to_internal_value = decimal_to_internal_value
    integer_field.to_internal_value = integer_to_internal_value


def date_input_plain() -> None:
    """Dates in the API's input as ``YYYY-MM-DD`` in ASCII digits, as the error message says:
    DRF's date field (Django's parser, ``strptime``) also read ``2026-1-1`` and ``２026-01-01``;
    its date-time field a week date (``2026-W49-7``) and other scripts' digits. Installed
    once, by the core app, on DRF's own fields (a field given other formats keeps them)."""
    date_field = serializers.DateField
    if getattr(date_field.to_internal_value, "plain", False):
        return
    date_read = date_field.to_internal_value

    def date_to_internal_value(self, data):
        formats = getattr(self, "input_formats", None) or ("iso-8601",)
        iso_only = all(f in ("iso-8601", "%Y-%m-%d") for f in formats)
        if iso_only and isinstance(data, str) and not PLAIN_DATE.fullmatch(data.strip()):
            self.fail("invalid", format="YYYY-MM-DD")
        return date_read(self, data)

    date_to_internal_value.plain = True
    date_field.to_internal_value = date_to_internal_value

    datetime_field = serializers.DateTimeField
    datetime_read = datetime_field.to_internal_value

    def datetime_to_internal_value(self, data):
        formats = getattr(self, "input_formats", None) or ("iso-8601",)
        if (
            all(f == "iso-8601" for f in formats)
            and isinstance(data, str)
            and not PLAIN_DATETIME.fullmatch(data.strip())
        ):
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]")
        return datetime_read(self, data)

    datetime_field.to_internal_value = datetime_to_internal_value


class _Bound:
    """A field's limit in a message, written the reader's way when the message is read
    (``1.000.000`` in Turkish, ``1,000,000`` in English), not as Python prints it."""

    def __init__(self, value):
        self.value = value

    def __format__(self, spec: str) -> str:
        return number_format(self.value, use_l10n=True, force_grouping=True)

    __str__ = __repr__ = lambda self: format(self, "")


def number_limits_readable() -> None:
    """DRF's "less than or equal to {max_value}" messages name the limit as the reader writes
    numbers: installed once, by the core app, on DRF's own number fields."""
    for field in (serializers.IntegerField, serializers.DecimalField):
        if getattr(field.__init__, "readable", False):
            continue
        field.__init__ = _readable_limits(field.__init__)


def _readable_limits(init):
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        for validator in self.validators:
            for kind, limit, cls in (
                ("max_value", self.max_value, MaxValueValidator),
                ("min_value", self.min_value, MinValueValidator),
            ):
                if limit is not None and isinstance(validator, cls):
                    validator.message = lazy_format(
                        self.error_messages[kind], **{kind: _Bound(limit)}
                    )

    __init__.readable = True
    return __init__


class MoneyField(serializers.DecimalField):
    """An amount in TRY: a decimal string with 2 places."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)


class FieldsBuiltOnceMixin:
    """For a ``ModelSerializer`` on a hot path (``/me``, every request of a client): its fields
    are built from the model once per process and copied for each instance, the way DRF copies
    declared fields, instead of introspecting the model again on every request (about as much
    CPU as the rest of a small request). Only for serializers whose fields do not depend on the
    instance, the context or the request."""

    def get_fields(self):
        cls = type(self)
        if "_fields_built_once" not in cls.__dict__:
            cls._fields_built_once = super().get_fields()
        return copy.deepcopy(cls._fields_built_once)
