"""The JSON parser of both APIs: DRF's, made safe against hostile bodies.

Every request body a client sends as JSON goes through ``SafeJSONParser`` (the default in
``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``). Whatever the bytes, the answer is a value or a
400 ``parse_error``, never a 500:

* nesting deeper than ``MAX_DEPTH`` (64) is refused *before* decoding, by one linear scan of
  the text (Python's decoder recurses, so ``[[[[...]]]]`` 1,000 deep raised ``RecursionError``);
* bytes that are not UTF-8 text (a body declared in another charset is refused before it is
  read, by ``apps.core.middleware.ApiMiddleware``);
* ``NaN``, ``Infinity``, and number literals that overflow to infinity (``1e999``);
* integers outside the signed 64-bit range are read as floats (no column holds them: each
  field refuses them with its own message, so one record of a batch cannot fail the others);
  beyond a float's range they are refused as too large;
* a number with a fraction or an exponent is a ``JSONNumber``: a float that keeps its text,
  so a decimal field checks the digits as sent (never a rounded float);
* an object that names the same key twice (which value would count is ambiguous).
"""

from __future__ import annotations

import io
import json
import math
import re
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

MAX_DEPTH = 64
MAX_EXPONENT = 1000  # a number's positional text stays this short (its fields refuse it)
INT_MAX = 2**63 - 1
INT_MIN = -(2**63)

# a JSON string literal, or an unterminated one up to the end of the text: every opening quote
# is consumed by exactly one match, so the scan stays linear whatever the input
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")


class JSONBodyError(ValueError):
    """A body we refuse to decode; the message is for the client (translated)."""


def json_nesting_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in ``text`` nest deeper than ``limit`` (brackets inside
    string literals do not count). Linear in the length of ``text``."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if brackets.count("[") + brackets.count("{") <= limit:
        return False
    depth = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _int(text: str) -> int | float:
    if len(text) <= 19:  # within the signed 64-bit range but for a few 19-digit numbers
        value = int(text)
        if INT_MIN <= value <= INT_MAX:
            return value
    # beyond it no column holds the number: it is read as a float, which every integer and
    # decimal field refuses with a field error (a batch's other records still count); read
    # as a float, not an int, so that thousands of digits cost no quadratic conversion
    return _float(text)


class JSONNumber(float):
    """A JSON number read as a float that remembers the number it was written as. ``str()``
    and ``format()`` give it as plain decimal text, so the decimal and integer fields read
    the digits the client sent: ``12.30000000000000000001`` is refused for its places and
    ``0.000…1`` for its length, where the float (``12.3``, ``0.0``) was taken and stored.
    Trailing zeros of a fraction and an exponent say nothing more: ``150.000000`` is ``150``
    and ``1e3`` is ``1000``, as their floats were. Everything else sees a float
    (arithmetic, ``json.dumps``, ``float.__repr__``)."""

    __slots__ = ("text",)

    def __new__(cls, text: str, value: float):
        number = super().__new__(cls, value)
        number.text = _plain(text)
        return number

    def __str__(self) -> str:
        return self.text

    def __format__(self, spec: str) -> str:
        return self.text if not spec else super().__format__(spec)

    def __reduce__(self):
        return (JSONNumber, (self.text, float(self)))


def _plain(text: str) -> str:
    """A JSON number's text as positional decimal text without the zeros that end its
    fraction (``1E+3`` -> ``1000``, ``150.000`` -> ``150``, ``0.10`` -> ``0.1``). An exponent
    beyond ±``MAX_EXPONENT`` is left as written: its positional text would be that long,
    and no field takes such a number anyway."""
    number = Decimal(text)
    _sign, _digits, exponent = number.as_tuple()
    if abs(exponent) > MAX_EXPONENT or abs(number.adjusted()) > MAX_EXPONENT:
        return text
    plain = format(number, "f")
    if "." in plain:
        plain = plain.rstrip("0").rstrip(".")
    return plain


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONBodyError(_("A number in the body is too large."))
    return JSONNumber(text, value)


def _constant(name: str):
    raise JSONBodyError(_("%(name)s is not a JSON value.") % {"name": name})


def _object(pairs: list[tuple[str, object]]) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _item in pairs:
            if key in seen:
                raise JSONBodyError(_("The key %(key)s appears twice.") % {"key": key[:100]})
            seen.add(key)
    return value


def json_body_loads(text: str, *, max_depth: int = MAX_DEPTH):
    """Decode a JSON text under the rules of this module; ``JSONBodyError`` (a ``ValueError``)
    says what is wrong."""
    if json_nesting_exceeds(text, max_depth):
        raise JSONBodyError(
            _("The JSON is nested more than %(depth)d levels deep.") % {"depth": max_depth}
        )
    return json.loads(
        text,
        parse_int=_int,
        parse_float=_float,
        parse_constant=_constant,
        object_pairs_hook=_object,
    )


class SafeJSONParser(JSONParser):
    """DRF's ``JSONParser`` with a nesting limit and the refusals listed in the module doc."""

    max_depth = MAX_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except (UnicodeError, LookupError):  # a codec for no text at all: UnicodeError
            raise ParseError(
                _("The body is not valid %(encoding)s text.") % {"encoding": encoding[:40]},
                code="parse_error",
            ) from None
        try:
            return json_body_loads(text, max_depth=self.max_depth)
        except JSONBodyError as exc:
            raise ParseError(str(exc), code="parse_error") from None
        except json.JSONDecodeError as exc:
            # where, in the reader's language (Python's own reason is English only)
            raise ParseError(
                _("The body is not valid JSON (line %(line)d, column %(column)d).")
                % {"line": exc.lineno, "column": exc.colno},
                code="parse_error",
            ) from None
        except (ValueError, RecursionError):  # a number too long to read, nesting too deep
            raise ParseError(_("The body is not valid JSON."), code="parse_error") from None


def _undecodable_fields(data) -> list[str]:
    """The fields of a parsed form whose bytes were not UTF-8: Django's and DRF's form
    parsers read them with ``\ufffd`` in their place (a note saved as "Depo\ufffd\ufffd")."""
    return [
        key.replace("\ufffd", "") or "body"
        for key, values in data.lists()
        if "\ufffd" in key or any(isinstance(v, str) and "\ufffd" in v for v in values)
    ]


def _refuse_undecodable(data) -> None:
    """Also a text field sent twice (``lines`` twice: which counts?), refused as a query
    parameter sent twice is; files may come several under one name (a return's photos)."""
    # here: apps.core.exceptions imports DRF's views, which import the parsers' settings
    from apps.core.exceptions import ValidationError

    names = _undecodable_fields(data)
    if names:
        message = _("The text sent is not valid UTF-8.")
        raise ValidationError({name: [message] for name in names}, code="invalid_encoding")
    repeated = [key for key, values in data.lists() if len(values) > 1]
    if repeated:
        message = _("Send this field once.")
        raise ValidationError({name: [message] for name in repeated}, code="repeated_parameter")


class SafeMultiPartParser(MultiPartParser):
    """DRF's multipart parser; a field whose bytes are not UTF-8 is a 400 naming it, as in a
    query string or a JSON body (it was stored with ``\ufffd`` in their place). A part whose
    headers are not UTF-8 (a file name in another charset) is a 400 too: Django's parser
    leaves such a part out without a word, and a return lost its photo."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""  # at most API_MAX_BODY_BYTES
        _refuse_undecodable_part_headers(raw, media_type or "")
        result = super().parse(io.BytesIO(raw), media_type, parser_context)
        _refuse_undecodable(result.data)
        return result


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


def _refuse_undecodable_part_headers(raw: bytes, media_type: str) -> None:
    found = _BOUNDARY.search(media_type)
    if found is None:
        return  # Django's parser refuses it (400)
    for part in raw.split(b"--" + found.group(1).encode("ascii", "replace"))[1:]:
        headers = part.split(b"\r\n\r\n", 1)[0]
        try:
            headers.decode("utf-8")
        except UnicodeDecodeError:
            from apps.core.exceptions import ValidationError  # as in _refuse_undecodable

            message = _("A part's name or file name is not valid UTF-8.")
            raise ValidationError({"body": [message]}, code="invalid_encoding") from None


class SafeFormParser(FormParser):
    """DRF's urlencoded form parser, with the same refusal as ``SafeMultiPartParser``."""

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _refuse_undecodable(result)
        return result
