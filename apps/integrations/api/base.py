"""The frame of the integration API: API-key authentication, scopes, and bulk upserts.

A bulk resource is a ``BatchUpsertView`` subclass naming its natural key, its scope and one of
two ways to apply records:

* record by record: a ``record_serializer_class`` (DRF) and an ``upsert(record)`` that returns
  ``created``, ``updated`` or ``unchanged``; each record runs in a savepoint of its own, so one
  bad record never undoes the others (customers);
* set-based, for feeds of thousands of rows: a ``record_schema`` (the plain-Python
  ``RecordSchema`` below: the same rules and messages as DRF's fields, without a serializer per
  record) and an ``upsert_many(records, batch=...)`` that applies every valid record at once and
  answers per index (products, stock, prices, special prices). ``batch_unique`` names the
  fields that may appear once per batch: a later record repeating them fails, naming the first.

The frame does the rest: a JSON list of at most INTEGRATION_MAX_BATCH records (413 above), the
answer ``{received, created, updated, unchanged, failed, errors: [{index, key, errors}]}``,
``Idempotency-Key`` replay, and a ``BatchLog`` row.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import re
import time
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal, DecimalException
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.settings import ISO_8601
from rest_framework.utils import humanize_datetime
from rest_framework.views import APIView

from apps.accounts.authentication import ApiKeyAuthentication
from apps.accounts.permissions import HasApiKeyScope
from apps.core.bulk import database_gave_no_answer
from apps.core.exceptions import (
    NON_FIELD,
    DomainError,
    NeedsPostgreSQL,
    PayloadTooLarge,
    ValidationError,
    flatten_errors,
)
from apps.core.idempotency import idempotent
from apps.core.net import client_ip
from apps.core.pagination import page_parameters
from apps.core.schema import IDEMPOTENCY_KEY, ConflictSerializer, ErrorSerializer
from apps.core.serializers import StrictInputSerializer
from apps.core.text import (
    PLAIN_DATETIME,
    PLAIN_DECIMAL,
    PLAIN_INTEGER,
    check_text,
    key_path_problem,
    key_problem,
    sku_problem,
    storable,
)
from apps.core.throttling import ApiKeyRateThrottle, IPRateThrottle
from apps.integrations.models import BatchLog

OUTCOMES = ("created", "updated", "unchanged")
RECORDS_PER_COMMIT = 100  # a record-by-record resource's records per transaction

Errors = dict[str, list[str]]

BatchResultSerializer = inline_serializer(
    name="BatchResult",
    fields={
        "received": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "errors": serializers.ListField(
            child=inline_serializer(
                name="BatchRecordError",
                fields={
                    "index": serializers.IntegerField(),
                    "key": serializers.CharField(allow_null=True),
                    "errors": serializers.DictField(
                        child=serializers.ListField(child=serializers.CharField())
                    ),
                },
            )
        ),
    },
)


# --- plain-Python record validation ----------------------------------------------------------
#
# DRF validates a 5000-record batch in seconds; these fields do it in milliseconds with the same
# rules and the same (translated) messages, taken from DRF's own fields.


class FieldError(Exception):
    """One field's messages, raised by ``RecordField.clean``."""

    def __init__(self, messages: str | Errors):
        self.messages = messages
        super().__init__(str(messages))


def _drf_messages(field: serializers.Field) -> dict[str, Any]:
    return field.error_messages


_CHAR_MESSAGES = _drf_messages(serializers.CharField())


def storable_errors(errors: Errors) -> Errors:
    return {storable(str(k)): [storable(str(m)) for m in v] for k, v in errors.items()}


class RecordField:
    """A field of a ``RecordSchema``: ``clean(value)`` returns the value to keep or raises
    ``FieldError``; ``openapi_field()`` describes it for the schema."""

    drf_field_class: type[serializers.Field] = serializers.Field

    def __init__(self, *, required: bool = True, allow_null: bool = False, help_text: str = ""):
        self.required = required
        self.allow_null = allow_null
        self.help_text = help_text
        self.messages = _drf_messages(self.drf_field_class(**self.drf_kwargs()))

    def drf_kwargs(self) -> dict[str, Any]:
        return {}

    def fail(self, key: str, **kwargs) -> FieldError:
        return FieldError(str(self.messages[key]).format(**kwargs))

    def clean(self, value: Any) -> Any:
        return value

    def openapi_field(self) -> serializers.Field:
        kwargs = {"required": self.required, "allow_null": self.allow_null, **self.drf_kwargs()}
        if self.help_text:
            kwargs["help_text"] = self.help_text
        return self.drf_field_class(**kwargs)


class Text(RecordField):
    """``serializers.CharField``: text (or a number, as text), trimmed, in Unicode's composed
    form (NFC: ``Ç`` written as C and a combining cedilla is the ``Ç`` already stored, not a
    second brand or SKU); one line (a key, a code, a name) unless ``multiline`` (a
    description): no control characters (``check_text``). A ``key`` (a SKU, a warehouse, a
    code, a number) holds only printing characters: no zero-width or other invisible format
    character, no byte-order mark, no space but the ASCII one, no line separator, so that no
    key looks like another."""

    drf_field_class = serializers.CharField

    def __init__(
        self,
        *,
        max_length: int,
        allow_blank: bool = False,
        multiline: bool = False,
        key: bool | str = False,  # True, or "sku": a key that names a product's pages
        form: tuple[re.Pattern, Any] | None = None,  # (the form, the message when it is not)
        **kwargs,
    ):
        self.max_length = max_length
        self.allow_blank = allow_blank
        self.multiline = multiline
        self.key = key
        self.form = form
        super().__init__(**kwargs)

    def drf_kwargs(self):
        kwargs = {"max_length": self.max_length, "allow_blank": self.allow_blank}
        if self.form is not None:  # the schema says the form (a pattern)
            kwargs["validators"] = [RegexValidator(self.form[0])]
        return kwargs

    def clean(self, value):
        if type(value) is str:
            text = value.strip()
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail("invalid")
        else:
            text = str(value)
        if not text:
            if self.allow_blank:
                return ""
            raise self.fail("blank")
        if not (text.isascii() and text.isprintable()):  # the usual text: no search
            try:
                check_text(text, single_line=not self.multiline)
            except ValueError as exc:
                raise FieldError(str(exc)) from None
            text = unicodedata.normalize("NFC", text)
            if self.key:
                problem = (sku_problem if self.key == "sku" else key_problem)(text)
                if problem:
                    raise FieldError(problem)
        elif self.key and ("/" in text or text in (".", "..")):  # ASCII: a path's tricks
            problem = (sku_problem if self.key == "sku" else key_path_problem)(text)
            if problem:
                raise FieldError(problem)
        # the length as stored: composition can lengthen a text (U+0958 is two characters in
        # NFC), and a column too short for it failed the whole batch's COPY
        if len(text) > self.max_length:
            raise self.fail("max_length", max_length=self.max_length)
        if self.form is not None and not self.form[0].fullmatch(text):
            raise FieldError(str(self.form[1]))
        return text


class Integer(RecordField):
    """``serializers.IntegerField``: a whole number (``"12"`` and ``12.0`` too)."""

    drf_field_class = serializers.IntegerField
    _decimal = re.compile(r"\.0*\s*$")

    def __init__(self, *, min_value: int | None = None, max_value: int | None = None, **kwargs):
        self.min_value = min_value
        self.max_value = max_value
        super().__init__(**kwargs)

    def drf_kwargs(self):
        return {"min_value": self.min_value, "max_value": self.max_value}

    def clean(self, value):
        if type(value) is int:
            number = value
        else:
            if isinstance(value, str) and len(value) > 1000:
                raise self.fail("max_string_length")
            if isinstance(value, str) and not PLAIN_INTEGER.fullmatch(value.strip()):
                raise self.fail("invalid")  # 1_000, other scripts' digits (as the dealer API)
            try:
                number = int(self._decimal.sub("", str(value)))
            except (ValueError, TypeError):
                raise self.fail("invalid") from None
        if self.min_value is not None and number < self.min_value:
            raise self.fail("min_value", min_value=self.min_value)
        if self.max_value is not None and number > self.max_value:
            raise self.fail("max_value", max_value=self.max_value)
        return number


class DecimalNumber(RecordField):
    """``serializers.DecimalField``: a number as JSON text (``"12.5"``) or a JSON number, with at
    most ``max_digits`` digits of which ``decimal_places`` after the point (more places are
    refused, never rounded), returned as a ``Decimal`` with exactly ``decimal_places`` places.
    NaN and infinities are refused; a JSON number is read from the text it was sent as (the
    parser's ``JSONNumber``): ``12.30000000000000000001`` is refused, not rounded to 12.3."""

    drf_field_class = serializers.DecimalField
    MAX_STRING_LENGTH = serializers.DecimalField.MAX_STRING_LENGTH

    def __init__(
        self,
        *,
        max_digits: int,
        decimal_places: int,
        min_value: Decimal | None = None,
        max_value: Decimal | None = None,
        **kwargs,
    ):
        self.max_digits = max_digits
        self.decimal_places = decimal_places
        self.max_whole_digits = max_digits - decimal_places
        self.min_value = min_value
        self.max_value = max_value
        self.quantum = Decimal(1).scaleb(-decimal_places)
        super().__init__(**kwargs)

    def drf_kwargs(self):
        return {
            "max_digits": self.max_digits,
            "decimal_places": self.decimal_places,
            "min_value": self.min_value,
            "max_value": self.max_value,
            "coerce_to_string": True,
        }

    def clean(self, value):
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise self.fail("invalid")
        text = value.strip() if isinstance(value, str) else str(value)
        if len(text) > self.MAX_STRING_LENGTH:
            raise self.fail("max_string_length")
        if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(text):
            raise self.fail("invalid")  # 1_000, 1e3, .5 as text (as the dealer API)
        try:
            number = Decimal(text)
        except DecimalException:
            raise self.fail("invalid") from None
        if not number.is_finite():  # NaN, sNaN, Infinity
            raise self.fail("invalid")
        _sign, digits, exponent = number.as_tuple()
        if exponent >= 0:
            total = whole = len(digits) + exponent
            places = 0
        elif len(digits) > -exponent:
            total, places = len(digits), -exponent
            whole = total - places
        else:
            total = places = -exponent
            whole = 0
        if total > self.max_digits:
            raise self.fail("max_digits", max_digits=self.max_digits)
        if places > self.decimal_places:
            raise self.fail("max_decimal_places", max_decimal_places=self.decimal_places)
        if whole > self.max_whole_digits:
            raise self.fail("max_whole_digits", max_whole_digits=self.max_whole_digits)
        number = number.quantize(self.quantum)
        if not number:
            number = abs(number)  # -0 is 0
        if self.min_value is not None and number < self.min_value:
            raise self.fail("min_value", min_value=self.min_value)
        if self.max_value is not None and number > self.max_value:
            raise self.fail("max_value", max_value=self.max_value)
        return number


_AWARE_ONLY = gettext_lazy(
    "Include the time zone: Z for UTC or an offset, e.g. 2026-01-31T00:00:00+03:00."
)


class DateTime(RecordField):
    """``serializers.DateTimeField`` (ISO 8601), returned in UTC. A time without a time zone
    (or a date alone) is refused rather than guessed: the API speaks UTC, the ERP often local
    time, and a price valid three hours early or late is worse than an error."""

    drf_field_class = serializers.DateTimeField
    MAX_STRING_LENGTH = 64
    EARLIEST = datetime.datetime.min + datetime.timedelta(days=1)
    LATEST = datetime.datetime.max - datetime.timedelta(days=1)

    def clean(self, value):
        parsed = None
        if (
            isinstance(value, str)
            and len(value) <= self.MAX_STRING_LENGTH
            and PLAIN_DATETIME.fullmatch(value.strip())
        ):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # the right shape, an impossible date (2026-02-30)
                parsed = None
        if parsed is None:
            raise self.fail("invalid", format=humanize_datetime.datetime_formats([ISO_8601]))
        if parsed.utcoffset() is None:
            raise FieldError(str(_AWARE_ONLY))
        try:
            value = parsed.astimezone(datetime.UTC)
        except OverflowError:  # 0001-01-01T00:00:00+01:00
            raise self.fail("overflow") from None
        # a day from either end of the calendar: a time is shown in other time zones (the
        # admin's Istanbul), where 9999-12-31T23:00:00Z would overflow
        if not self.EARLIEST <= value.replace(tzinfo=None) <= self.LATEST:
            raise self.fail("overflow")
        return value


class Choice(RecordField):
    """``serializers.ChoiceField``: one of ``choices`` (matched as text, like DRF)."""

    drf_field_class = serializers.ChoiceField

    def __init__(self, *, choices: Iterable[tuple[Any, Any]], **kwargs):
        self.choices = list(choices)
        self.by_text = {str(value): value for value, _label in self.choices}
        # whole-number choices (VAT rates) take 20, "20", 20.0 and "20.00" alike, as Integer
        self.whole = all(type(value) is int for value, _label in self.choices)
        super().__init__(**kwargs)

    def drf_kwargs(self):
        return {"choices": self.choices}

    def clean(self, value):
        text = str(value)
        if self.whole and isinstance(value, (float, str)) and len(text) <= 100:
            # spaces around a number are no part of it (" 20 ", as Integer and the amounts)
            text = Integer._decimal.sub("", text.strip())
        try:
            return self.by_text[text]
        except KeyError:
            raise self.fail("invalid_choice", input=value) from None


class Boolean(RecordField):
    """``serializers.BooleanField``: ``true``/``false`` (and DRF's other spellings)."""

    drf_field_class = serializers.BooleanField
    true_values = serializers.BooleanField.TRUE_VALUES
    false_values = serializers.BooleanField.FALSE_VALUES

    def clean(self, value):
        if value is True or value is False:
            return value
        probe = value.lower() if isinstance(value, str) else value
        try:
            if probe in self.true_values:
                return True
            if probe in self.false_values:
                return False
        except TypeError:  # unhashable
            pass
        raise self.fail("invalid", input=value)


class TextList(RecordField):
    """``serializers.ListField(child=CharField)``; item errors are named ``field.<n>``."""

    drf_field_class = serializers.ListField

    def __init__(self, *, item: Text, max_items: int, **kwargs):
        self.item = item
        self.max_items = max_items
        super().__init__(**kwargs)

    def drf_kwargs(self):
        return {"child": self.item.openapi_field(), "max_length": self.max_items}

    def clean(self, value):
        if not isinstance(value, list):
            raise self.fail("not_a_list", input_type=type(value).__name__)
        if len(value) > self.max_items:
            raise self.fail("max_length", max_length=self.max_items)
        cleaned, errors = [], {}
        for position, item in enumerate(value):
            if item is None:  # as DRF's ListField says of a null item
                errors[str(position)] = [str(_CHAR_MESSAGES["null"])]
                continue
            try:
                cleaned.append(self.item.clean(item))
            except FieldError as exc:
                errors[str(position)] = [exc.messages]
        if errors:
            raise FieldError(errors)
        return cleaned


class JSONObject(RecordField):
    """``serializers.DictField``: a JSON object, checked further by the service."""

    drf_field_class = serializers.DictField

    def clean(self, value):
        if not isinstance(value, dict):
            raise self.fail("not_a_dict", input_type=type(value).__name__)
        return value


class Date(RecordField):
    """``serializers.DateField``: ``YYYY-MM-DD`` and nothing else ISO 8601 also allows (Python
    reads ``2026-W49-7`` as a date: a week date the message does not offer), as a ``date``."""

    drf_field_class = serializers.DateField
    SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

    def clean(self, value):
        if isinstance(value, str) and self.SHAPE.fullmatch(value.strip()):
            try:
                return datetime.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail("invalid", format="YYYY-MM-DD")


class Uuid(RecordField):
    """``serializers.UUIDField``: a UUID in its usual text form, 8-4-4-4-12 hexadecimal digits
    (as an e-invoice's ETTN is written: not ``{...}``, ``urn:uuid:`` nor 32 digits in a row,
    which Python also reads), and not the nil UUID, which names nothing."""

    drf_field_class = serializers.UUIDField
    SHAPE = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")

    def clean(self, value):
        if isinstance(value, str) and self.SHAPE.fullmatch(value.strip()):
            parsed = uuid.UUID(value.strip())
            if parsed.int:
                return parsed
        raise self.fail("invalid", value=value)


class Base64File(RecordField):
    """A file as standard base64 text (line breaks allowed), returned as ``bytes``; at most
    ``max_bytes`` decoded; of the ``kind`` it is named for (``pdf``: it starts as a PDF does;
    ``xml``: as an XML document does), since it is served under that type."""

    drf_field_class = serializers.CharField
    KINDS = {
        "pdf": (lambda data: data.startswith(b"%PDF-"), gettext_lazy("This is not a PDF file.")),
        "xml": (
            lambda data: data.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"),
            gettext_lazy("This is not an XML document."),
        ),
    }

    def __init__(self, *, max_bytes: int, kind: str | None = None, **kwargs):
        self.max_bytes = max_bytes
        self.kind = kind
        super().__init__(**kwargs)

    def clean(self, value):
        if not isinstance(value, str):
            raise self.fail("invalid")
        if not value.strip() and self.allow_null and not self.required:
            return None  # an optional file sent empty is no file, as null or absent
        if len(value) > (self.max_bytes + 2) // 3 * 4 * 78 // 76 + 4:  # with line breaks
            raise FieldError(_("The file is larger than %(max)d bytes.") % {"max": self.max_bytes})
        try:  # MIME-style line breaks (every 76 characters) are fine
            data = base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise FieldError(_("Not valid base64.")) from None
        if not data:
            raise FieldError(_("The file is empty."))
        if len(data) > self.max_bytes:  # the text's bound above leaves room for line breaks
            raise FieldError(_("The file is larger than %(max)d bytes.") % {"max": self.max_bytes})
        if self.kind is not None:
            looks_right, message = self.KINDS[self.kind]
            if not looks_right(data):
                raise FieldError(str(message))
        return data


class Nested(RecordField):
    """A JSON object checked by its own ``RecordSchema``; its errors are named
    ``field.<name>``."""

    drf_field_class = serializers.DictField

    def __init__(self, schema: RecordSchema, **kwargs):
        self.schema = schema
        super().__init__(**kwargs)

    def clean(self, value):
        if not isinstance(value, dict):
            raise self.fail("not_a_dict", input_type=type(value).__name__)
        data, errors = self.schema.validate(value)
        if errors:
            raise FieldError(errors)
        return data

    def openapi_field(self) -> serializers.Field:
        kwargs = {"required": self.required, "allow_null": self.allow_null}
        if self.help_text:
            kwargs["help_text"] = self.help_text
        return self.schema.serializer_class(**kwargs)


class NestedList(Nested):
    """A JSON list of 1 to ``max_items`` objects, each checked by ``schema``; errors are named
    ``field.<n>.<name>``."""

    drf_field_class = serializers.ListField

    def __init__(self, schema: RecordSchema, *, max_items: int, **kwargs):
        self.max_items = max_items
        super().__init__(schema, **kwargs)

    def drf_kwargs(self):
        return {"min_length": 1, "max_length": self.max_items}

    def clean(self, value):
        if not isinstance(value, list):
            raise self.fail("not_a_list", input_type=type(value).__name__)
        if not value:
            raise self.fail("min_length", min_length=1)
        if len(value) > self.max_items:
            raise self.fail("max_length", max_length=self.max_items)
        cleaned, errors = [], {}
        for position, item in enumerate(value):
            if not isinstance(item, dict):
                errors[str(position)] = [str(_("A line must be a JSON object."))]
                continue
            data, item_errors = self.schema.validate(item)
            for name, messages in item_errors.items():
                errors[f"{position}.{name}"] = messages
            cleaned.append(data)
        if errors:
            raise FieldError(errors)
        return cleaned

    def openapi_field(self) -> serializers.Field:
        kwargs = {"required": self.required, "allow_null": self.allow_null, **self.drf_kwargs()}
        if self.help_text:
            kwargs["help_text"] = self.help_text
        return self.schema.serializer_class(many=True, **kwargs)


_ABSENT = object()


class RecordSchema:
    """The fields of one record. ``validate(raw)`` -> ``(data, errors)`` with the errors
    flattened as everywhere (``barcodes.2``); unknown fields are refused like
    ``StrictInputSerializer`` does. ``serializer_class`` is the same shape for the OpenAPI
    schema."""

    def __init__(self, schema_name: str, /, **fields: RecordField):
        self.name = schema_name
        self.fields = fields
        self._items = tuple(fields.items())
        # lazy: translated when a record fails, in the language of that request
        self._unknown = StrictInputSerializer.default_error_messages["unknown_field"]
        self._required = _CHAR_MESSAGES["required"]
        self._null = _CHAR_MESSAGES["null"]
        self._serializer_class: type[serializers.Serializer] | None = None

    def validate(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], Errors]:
        data: dict[str, Any] = {}
        errors: Errors = {}
        present = 0  # fields of ours in the record (a list's errors are one per item)
        for name, field in self._items:
            value = raw.get(name, _ABSENT)
            if value is _ABSENT:
                if field.required:
                    errors[name] = [str(self._required)]
                continue
            present += 1
            if value is None:
                if field.allow_null:
                    data[name] = None
                else:
                    errors[name] = [str(self._null)]
                continue
            try:
                data[name] = field.clean(value)
            except FieldError as exc:
                if isinstance(exc.messages, dict):
                    for sub, messages in exc.messages.items():
                        errors[f"{name}.{sub}"] = messages
                else:
                    errors[name] = [exc.messages]
        if len(raw) > present:
            for name in raw:
                if name not in self.fields:
                    errors[name] = [str(self._unknown)]
        return data, errors

    @property
    def serializer_class(self) -> type[serializers.Serializer]:
        if self._serializer_class is None:
            attrs = {name: field.openapi_field() for name, field in self.fields.items()}
            self._serializer_class = type(
                f"{self.name}Serializer", (serializers.Serializer,), attrs
            )
        return self._serializer_class


# --- views ------------------------------------------------------------------------------------

# the paging of a list, and of a pull list (``apps.core.pagination.ChangesPagination``)
PAGES = page_parameters()
CHANGES_PAGES = (
    *PAGES,
    OpenApiParameter(
        "cursor",
        str,
        OpenApiParameter.QUERY,
        required=False,
        description="Pull by keyset instead of by page number: `cursor=` (empty) answers the "
        "first page, then follow `next` (it carries the cursor) until it is null. It never "
        "skips nor repeats a change, also when many share one `updated_at`. Not with `page`.",
    ),
)


class IntegrationAPIView(APIView):
    """Base of every integration endpoint: ``X-API-Key`` only (a JWT does not open it)."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    throttle_classes = [IPRateThrottle, ApiKeyRateThrottle]
    required_scopes: dict[str, str] = {}

    @property
    def api_key(self):
        return self.request.auth


class BatchUpsertView(IntegrationAPIView):
    resource: str = ""
    key_field: str = ""
    scope: str = ""
    record_serializer_class: type[serializers.Serializer]
    # set-based resources: plain-Python validation
    record_schema: RecordSchema | None = None
    # the fields a record may repeat from no earlier record of its batch (either way of applying)
    batch_unique: tuple[str, ...] = ()
    # its writer's SQL is PostgreSQL's (one statement per batch): 501 on the demo's SQLite
    needs_postgresql: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.record_schema is not None and "record_serializer_class" not in cls.__dict__:
            cls.record_serializer_class = cls.record_schema.serializer_class
        if cls.scope:
            cls.required_scopes = {"POST": cls.scope}
            inherited = cls.post

            def post(self, request, *args, **kwargs):  # one function per resource: its schema
                return inherited(self, request, *args, **kwargs)

            key = "/".join(cls.batch_unique) or cls.key_field
            cls.post = extend_schema(
                request=cls.record_serializer_class(
                    many=True, max_length=settings.INTEGRATION_MAX_BATCH
                ),
                responses={
                    200: BatchResultSerializer,
                    413: OpenApiResponse(ErrorSerializer, description="Too many records."),
                    409: OpenApiResponse(
                        ConflictSerializer,
                        description="The Idempotency-Key was used with another body "
                        "(`idempotency_key_reused`), or its first request is still running.",
                    ),
                },
                parameters=[IDEMPOTENCY_KEY],
                tags=["integration"],
                summary=f"Upsert {cls.resource} in bulk (by {key})",
                description=(
                    f"A JSON list of {cls.resource} records (at most `INTEGRATION_MAX_BATCH`, "
                    f"default 5000; more answers 413), matched by {key}. Each record is "
                    "validated on its own: valid records are applied even when others fail, "
                    "invalid ones are reported in `errors` by `index` and `key` with field "
                    "messages. A record equal to what is stored counts as `unchanged` and "
                    "writes nothing, so sending a batch again is safe; an `Idempotency-Key` "
                    "replays the first answer."
                ),
            )(post)

    def upsert(self, record: dict) -> str:
        raise NotImplementedError

    def upsert_many(
        self, records: dict[int, dict], *, batch: BatchLog
    ) -> tuple[dict[int, str], dict[int, Errors]]:
        """Apply every valid record (``{index: record}``) at once; answer ``({index:
        outcome}, {index: errors})`` with one entry per index. Overriding it makes the
        resource set-based; ``batch`` is its (already saved) log row, e.g. for references."""
        raise NotImplementedError

    @classmethod
    def is_set_based(cls) -> bool:
        return cls.upsert_many is not BatchUpsertView.upsert_many

    def post(self, request):
        if self.needs_postgresql and connection.vendor != "postgresql":
            raise NeedsPostgreSQL()
        records = request.data
        if not isinstance(records, list):
            raise ValidationError(
                {"non_field_errors": [_("Send a JSON list of records.")]}, code="not_a_list"
            )
        if len(records) > settings.INTEGRATION_MAX_BATCH:
            raise PayloadTooLarge(
                _("At most %(max)d records per batch; this one has %(n)d.")
                % {"max": settings.INTEGRATION_MAX_BATCH, "n": len(records)}
            )
        return idempotent(
            request,
            scope=f"apikey:{self.api_key.pk}:{request.path}",
            handler=lambda: Response(self.process(records)),
        )

    def _key_of(self, raw) -> str | None:
        if isinstance(raw, dict) and raw.get(self.key_field) is not None:
            return storable(str(raw[self.key_field])[:200])
        return None

    def validate_record(self, raw: dict) -> tuple[dict, Errors]:
        if self.record_schema is not None:
            return self.record_schema.validate(raw)
        serializer = self.record_serializer_class(data=raw)
        if serializer.is_valid():
            return serializer.validated_data, {}
        return {}, flatten_errors(serializer.errors)

    def process(self, records: list) -> dict:
        if self.is_set_based():
            return self._process_set_based(records)
        started = time.monotonic()
        counts = dict.fromkeys(OUTCOMES, 0)
        errors = []
        first_of: dict[tuple, int] = {}
        # one transaction per ``RECORDS_PER_COMMIT`` records (each record in its savepoint):
        # a commit per record queued an outbox fan-out per record, and 5,000 records outlived
        # the request's timeout. In the order of their keys: two batches naming the same rows
        # then lock them in the same order and wait for each other, never deadlock (stable:
        # a repeated key's first record still comes first)
        order = sorted(range(len(records)), key=lambda i: self._key_of(records[i]) or "")
        for start in range(0, len(order), RECORDS_PER_COMMIT):
            with transaction.atomic():
                for index in order[start : start + RECORDS_PER_COMMIT]:
                    self._process_one(index, records[index], counts, errors, first_of)
        errors.sort(key=lambda error: error["index"])
        errors = [{**e, "errors": storable_errors(e["errors"])} for e in errors]
        result = {"received": len(records), **counts, "failed": len(errors), "errors": errors}
        BatchLog.objects.create(
            api_key=self.api_key,
            resource=self.resource,
            idempotency_key=self.request.headers.get("Idempotency-Key", "")[:200],
            received=len(records),
            failed=len(errors),
            errors=errors[:100],
            ip_address=client_ip(self.request),
            duration_ms=int((time.monotonic() - started) * 1000),
            **counts,
        )
        return result

    def _process_one(
        self, index: int, raw, counts: dict, errors: list, first_of: dict[tuple, int]
    ) -> None:
        key = self._key_of(raw)
        if not isinstance(raw, dict):
            errors.append({"index": index, "key": None, "errors": self._not_an_object()})
            return
        serializer = self.record_serializer_class(data=raw)
        if not serializer.is_valid():
            errors.append({"index": index, "key": key, "errors": flatten_errors(serializer.errors)})
            return
        first = self._first_with_the_same_key(serializer.validated_data, index, first_of)
        if first is not None:
            errors.append({"index": index, "key": key, "errors": first})
            return
        try:
            outcome = self._upsert_settled(serializer.validated_data)
        except DomainError as exc:
            errors.append(
                {
                    "index": index,
                    "key": key,
                    "errors": flatten_errors(exc.errors) or {"non_field_errors": [str(exc.detail)]},
                }
            )
            return
        except DatabaseError as exc:  # a constraint the serializer could not foresee
            if database_gave_no_answer(exc):  # no answer, no refusal: 503, send it again
                raise
            message = _("Rejected by the database: %(e)s") % {"e": str(exc).splitlines()[0][:200]}
            errors.append({"index": index, "key": key, "errors": {"non_field_errors": [message]}})
            return
        counts[outcome] += 1

    def _upsert_settled(self, record: dict) -> str:
        """``upsert`` in a savepoint; a unique key another request inserted meanwhile (the
        connector's retry while its first try still runs) is settled by one more try, which
        finds that row and compares with it, as a batch sent after it would: ``unchanged``, not
        the database's refusal."""
        try:
            with transaction.atomic():
                return self.upsert(record)
        except IntegrityError:
            with transaction.atomic():
                return self.upsert(record)

    def _first_with_the_same_key(
        self, data: Mapping[str, Any], index: int, first_of: dict[tuple, int]
    ) -> Errors | None:
        """The error of a record repeating the ``batch_unique`` fields of an earlier valid
        record of the batch (``first_of`` remembers them), naming that record; else None."""
        if not self.batch_unique:
            return None
        first = first_of.setdefault(tuple(data[f] for f in self.batch_unique), index)
        if first == index:
            return None
        return {self.batch_unique[0]: [self._duplicate_message(first)]}

    @staticmethod
    def _not_an_object() -> Errors:
        return {NON_FIELD: [_("A record must be a JSON object.")]}

    def _process_set_based(self, records: list) -> dict:
        started = time.monotonic()
        # saved first: what the batch writes can name it (e.g. stock movements "batch:<id>")
        log = BatchLog.objects.create(
            api_key=self.api_key,
            resource=self.resource,
            idempotency_key=self.request.headers.get("Idempotency-Key", "")[:200],
            received=len(records),
            ip_address=client_ip(self.request),
        )
        errors: dict[int, Errors] = {}
        valid: dict[int, dict] = {}
        first_of: dict[tuple, int] = {}
        for index, raw in enumerate(records):
            if not isinstance(raw, dict):
                errors[index] = self._not_an_object()
                continue
            data, field_errors = self.validate_record(raw)
            if field_errors:
                errors[index] = field_errors
                continue
            repeated = self._first_with_the_same_key(data, index, first_of)
            if repeated is not None:
                errors[index] = repeated
                continue
            valid[index] = data

        try:
            outcomes, record_errors = self.upsert_many(valid, batch=log) if valid else ({}, {})
        except Exception:
            with contextlib.suppress(DatabaseError):  # the log says so, then the 500
                BatchLog.objects.filter(pk=log.pk).update(
                    failed=len(records),
                    errors=[{"index": None, "key": None, "errors": {NON_FIELD: ["Server error."]}}],
                    duration_ms=int((time.monotonic() - started) * 1000),
                )
            raise
        errors.update(record_errors)
        counts = dict.fromkeys(OUTCOMES, 0)
        for index in valid:
            if index in errors:
                continue
            outcome = outcomes.get(index)
            if outcome in counts:
                counts[outcome] += 1
            else:  # a resource that forgot a record must not make it look applied
                errors[index] = {NON_FIELD: [_("The record was not applied.")]}
        error_list = [
            {
                "index": index,
                "key": self._key_of(records[index]),
                "errors": storable_errors(errors[index]),
            }
            for index in sorted(errors)
        ]
        result = {"received": len(records), **counts, "failed": len(errors), "errors": error_list}
        BatchLog.objects.filter(pk=log.pk).update(
            failed=len(errors),
            errors=error_list[:100],
            duration_ms=int((time.monotonic() - started) * 1000),
            **counts,
        )
        return result

    def _duplicate_message(self, first: int) -> str:
        return _(
            "Repeats record %(index)d (same %(fields)s); send each %(fields)s once per batch."
        ) % {"index": first, "fields": "/".join(self.batch_unique)}
