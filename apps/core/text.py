"""Text that PostgreSQL and UTF-8 can hold.

JSON and form bodies may carry NUL characters (``\\u0000``) and lone UTF-16 surrogates
(``\\ud800``): Python keeps them in ``str``, PostgreSQL refuses NUL in text, and neither can be
encoded as UTF-8 (to the database or in an answer). Input is refused with a message
(``check_text``, DRF's messages, as its ``CharField`` does); text that is echoed back (an error
message quoting the input, a stored answer) is made ``storable``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from inspect import signature
from typing import Any

import idna
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.functional import keep_lazy_text
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

_SURROGATE = re.compile("[\ud800-\udfff]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# C0 and C1 controls and DEL: invisible, unaddressable in a URL, garbling a CSV or a PDF; and
# the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which
# make text read otherwise than it is stored (a name shown backwards on a staff screen; the
# marks U+200E and U+200F stay allowed). Text may hold tabs and line breaks; a single line (a
# code, a SKU, a name) may not, nor a line or paragraph separator
_BIDI = "\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_IN_LINE = re.compile(f"[\x01-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")
NULL_CHARACTERS = gettext_lazy("Null characters are not allowed.")
SURROGATES = gettext_lazy("Surrogate characters are not allowed: U+{code_point:X}.")
CONTROL_CHARACTERS = gettext_lazy("Control characters are not allowed: U+{code_point:04X}.")
# what ends a line to an editor or a browser: line feed, carriage return, vertical tab, form
# feed, NEL, the line and paragraph separators
_LINE_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"
LINE_BREAKS = gettext_lazy("Write this on one line: no line breaks (U+{code_point:04X}).")


def check_text(text: str, *, single_line: bool = False) -> None:
    """Text PostgreSQL can store, and people read: no NUL, no lone surrogate, no control
    character but tabs and line breaks (none of those either in ``single_line`` text):
    ``ValueError`` with a message."""
    if "\x00" in text:
        raise ValueError(str(NULL_CHARACTERS))
    surrogate = _SURROGATE.search(text)
    if surrogate:
        raise ValueError(str(SURROGATES).format(code_point=ord(surrogate.group())))
    problem = control_problem(text, single_line=single_line)
    if problem:
        raise ValueError(problem)


def control_problem(text: str, *, single_line: bool = False) -> str | None:
    """The message for a control character in ``text`` (tabs and line breaks allowed unless
    ``single_line``), or None."""
    if text.isascii() and text.isprintable():  # the usual text: no search
        return None
    control = (_CONTROL_IN_LINE if single_line else _CONTROL).search(text)
    if control is None:
        return None
    # a line break or separator in one line is no control character to the person who typed it
    line_break = single_line and control.group() in _LINE_BREAKS
    message = LINE_BREAKS if line_break else CONTROL_CHARACTERS
    return str(message).format(code_point=ord(control.group()))


def is_digits(text: str) -> bool:
    """Only the ASCII digits 0-9, at least one: what ``int()`` reads as written. ``str.isdigit``
    also says yes to ``²`` (which ``int`` refuses) and to ``٣`` (which it reads as 3)."""
    return text.isascii() and text.isdigit()


def digits_int(text: str, *, max_digits: int = 18) -> int | None:
    """``text`` of ASCII digits (``is_digits``) as an ``int``, when it has at most
    ``max_digits`` of them (18 stay within a bigint); else None. ``int()`` of thousands of
    digits raises (Python's 4,300-digit limit) or costs quadratic time."""
    return int(text) if is_digits(text) and len(text) <= max_digits else None


# a number as the APIs take it in text: ASCII digits, a sign, a point between digits; a whole
# number may end in ".0" as DRF allows. Not ``1_000``, ``1e3``, ``.5``, ``1.`` nor other
# scripts' digits, which ``Decimal()`` and ``int()`` read too
PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
PLAIN_INTEGER = re.compile(r"[+-]?[0-9]+(?:\.0+)?")
# a date as the APIs take it: YYYY-MM-DD in ASCII digits. Not ``2026-1-1`` nor other scripts'
# digits (``２026-01-01``), which ``strptime`` and Django's date parser read too
PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# a date and time as the APIs take it: ISO 8601's calendar date in ASCII digits, then a time
# and an offset (``Z``, ``+03:00``) if given. Not a week date (``2026-W49-7``) nor other
# scripts' digits, which Python's ``fromisoformat`` (under Django's parser) reads too
PLAIN_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)


def plain_int(value) -> int | None:
    """A whole number as the APIs' integer fields take it: an ``int`` (not a ``bool``), a JSON
    number with nothing after the point (``5.0``, ``1e3``), or text of ASCII digits with an
    optional sign and an optional ``.0`` (spaces around allowed); else None. ``int()`` alone
    also reads ``1_000`` and other scripts' digits (``١``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and PLAIN_INTEGER.fullmatch(value.strip()):
        whole = value.strip().partition(".")[0]
        # int() of more than 4,300 digits raises: so long a number is none here
        return int(whole) if len(whole) <= 4000 else None
    return None


def choices_text(choices) -> str:
    """The values of a ``TextChoices`` as a person and a program both read them, in the
    active language: ``on account (on_account), card (card), bank transfer (bank_transfer)``."""
    return ", ".join(f"{label} ({value})" for value, label in choices.choices)


def unstorable_at(text: str) -> int | None:
    """Where ``text`` holds what PostgreSQL's text (and UTF-8) cannot: a NUL character or a
    lone surrogate; None when it holds neither."""
    found = _UNSTORABLE.search(text)
    return None if found is None else found.start()


def storable(text: str) -> str:
    """``text`` with what JSON in PostgreSQL (and UTF-8) cannot hold replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def storable_data(value: Any) -> Any:
    """``storable`` applied to every string of a JSON-like value (dict keys too)."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable_data(k): storable_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_data(v) for v in value]
    return value


def text_value(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    """A text field of a service's input, trimmed (``None`` is blank): a ``ValidationError``
    on ``field`` for something that is not text, blank when ``required``, longer than
    ``max_length``, or holding what PostgreSQL cannot store."""
    # here: the API's renderer imports this module while DRF's settings load, before
    # apps.core.exceptions (which imports DRF's views) can be imported
    from apps.core.exceptions import ValidationError

    if value is not None and not isinstance(value, str):
        raise ValidationError({field: [_("Enter text.")]})
    text = (value or "").strip()
    try:
        check_text(text)
    except ValueError as exc:
        raise ValidationError({field: [str(exc)]}) from None
    if required and not text:
        raise ValidationError({field: [_("This field is required.")]}, code="required")
    if len(text) > max_length:
        raise ValidationError({field: [_("At most %(n)d characters.") % {"n": max_length}]})
    return text


class SystemTexts:
    """Texts the system writes into a stored field (an order status change's note, a ledger
    entry's description) in the language active when it writes them, shown in the reader's.
    Each is made by a writer: a function of no argument, or of one value (a number, a
    reference) that its text holds. ``shown(stored)`` recognises a stored text as one a writer
    makes in any of ``LANGUAGES`` and makes it again in the active language, its value kept; a
    text a person wrote is returned as it is."""

    _MARK = "\x00"

    def __init__(self, *writers: Callable[..., str]):
        self._writers = [(writer, bool(signature(writer).parameters)) for writer in writers]
        self._fixed: dict[str, int] | None = None  # a text in any language -> its writer
        self._numbered: list[tuple[str, str, int]] = []  # (start, end, writer) around a value

    def _build(self) -> None:
        from django.conf import settings
        from django.utils import translation

        fixed: dict[str, int] = {}
        numbered: list[tuple[str, str, int]] = []
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                for index, (writer, takes_value) in enumerate(self._writers):
                    if takes_value:
                        start, end = str(writer(self._MARK)).split(self._MARK, 1)
                        numbered.append((start, end, index))
                    else:
                        fixed.setdefault(str(writer()), index)
        # the longest frame first: a shorter one could be part of it
        numbered.sort(key=lambda item: -len(item[0]) - len(item[1]))
        self._numbered, self._fixed = numbered, fixed

    def recognises(self, stored: str) -> bool:
        """Is ``stored`` a text one of the writers makes, in any of ``LANGUAGES``?"""
        if not stored:
            return False
        if self._fixed is None:
            self._build()
        if stored in self._fixed:
            return True
        return any(
            stored.startswith(start) and stored.endswith(end) and len(stored) > len(start + end)
            for start, end, _index in self._numbered
        )

    def shown(self, stored: str) -> str:
        if not stored:
            return stored
        if self._fixed is None:
            self._build()
        index = self._fixed.get(stored)
        if index is not None:
            return str(self._writers[index][0]())
        for start, end, index in self._numbered:
            if stored.startswith(start) and stored.endswith(end) and len(stored) > len(start + end):
                return str(self._writers[index][0](stored[len(start) : len(stored) - len(end)]))
        return stored


# invisible in any font (Unicode's Default_Ignorable_Code_Point, the blocks that hold them)
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def key_problem(text: str) -> str | None:
    """Why ``text`` (NFC) cannot be a key, so that no key looks like another; else None.
    Beyond ASCII a key takes Latin letters only, Turkish ones included (``Ç Ğ İ ı Ö Ş Ü``,
    ``é``, ``ß``, ``Ø``). Refused: invisible and non-printing characters (zero-width, a
    byte-order mark, a space other than the ASCII one, a line separator, Hangul fillers),
    combining marks left after composition, compatibility forms that stand for other letters
    (full-width ``ＩＳＴ``, mathematical ``𝐈𝐒𝐓``, the Roman numeral ``Ⅰ``, ligatures), and
    every other character beyond ASCII: punctuation, symbols and digits that look like ASCII
    ones (a division slash ``∕``, an en dash, ``×``, ``١``), letters of other scripts (a
    Cyrillic ``ІЅТ`` beside ``IST``, a Katakana ``ー`` for ``-``, a Lisu ``ꓸ`` for ``.``)
    and Latin letters that are not letters of a word (a modifier ``ʼ``, a click ``ǃ``)."""
    for char in text:
        if not char.isprintable() or _IGNORABLE.match(char):
            message = _("Invisible characters are not allowed in a key: U+%(code)04X.")
        elif unicodedata.category(char) in ("Mn", "Me"):
            message = _("Combining marks are not allowed in a key: U+%(code)04X.")
        elif unicodedata.normalize("NFKC", char) != char:
            message = _("This character stands for another in a key: U+%(code)04X.")
        elif char.isascii() or _latin_letter(char):
            continue
        else:
            message = _(
                "Beyond ASCII a key takes Latin letters only (Turkish ones included), not "
                "other scripts, punctuation, symbols or digits: U+%(code)04X."
            )
        return message % {"code": ord(char)}
    return key_path_problem(text)


def key_path_problem(text: str) -> str | None:
    """A key is a segment of addresses (a SKU's pages, its images' folder): browsers resolve
    ``..`` (``products/..`` is the list), and ``/A`` or ``A//B`` share a folder with ``A`` or
    ``A/B``. (The part of
    ``key_problem`` that ASCII text needs.)"""
    parts = text.split("/")
    if any(part in (".", "..") for part in parts) or ("/" in text and "" in parts):
        return _(
            "A key cannot be “.” or “..”, start or end with “/”, nor hold “//”, “/./” or “/../”."
        )
    return None


# the addresses under a product's own (``products/<sku>/why/``, ``.../price-explanation``,
# ``.../images``): a SKU ending so would be read as the page of a shorter one
SKU_ENDINGS = ("why", "price-explanation", "images")


def sku_problem(text: str) -> str | None:
    """``key_problem`` and a SKU's own rule: its last ``/`` segment is not the name of one of
    its pages (``KBL/why`` would open the explanation of ``KBL``)."""
    problem = key_problem(text)
    if problem is None and "/" in text and text.rsplit("/", 1)[1].lower() in SKU_ENDINGS:
        return _("A SKU cannot end with “/why”, “/price-explanation” or “/images”.")
    return problem


def _latin_letter(char: str) -> bool:
    """A letter of a Latin alphabet with a case (``Ş``, ``ı``, ``ß``), not a Latin modifier
    or click that looks like punctuation."""
    return unicodedata.category(char) in ("Lu", "Ll", "Lt") and unicodedata.name(
        char, ""
    ).startswith("LATIN ")


def sku_text(value: str) -> None:
    """``key_text`` with ``sku_problem``'s rule: the validator of a product's SKU."""
    problem = sku_problem(unicodedata.normalize("NFC", value))
    if problem:
        raise DjangoValidationError(problem, code="invalid")


def key_text(value: str) -> None:
    """A model field's validator for a key typed or imported by staff (a SKU, a code, a serial
    number): ``key_problem``'s rules, as the ERP's feeds apply them, so that the back office
    cannot make a key that looks like another either. Judged in NFC, as the forms and the
    feeds take text (a ``Ç`` pasted as ``C`` and a combining cedilla is a ``Ç``)."""
    problem = key_problem(unicodedata.normalize("NFC", value))
    if problem:
        raise DjangoValidationError(problem, code="invalid")


# languages whose capital of "i" is "İ" (and of "ı" the ASCII "I", as everywhere)
_DOTTED_I_LANGUAGES = frozenset({"tr", "az"})


def _capfirst(text) -> str:
    if not text:
        return text
    text = str(text)
    if text[0] == "i" and (get_language() or "").split("-")[0] in _DOTTED_I_LANGUAGES:
        return "İ" + text[1:]
    return text[0].upper() + text[1:]


capfirst = keep_lazy_text(_capfirst)
capfirst.__doc__ = """Django's ``capfirst`` in the active language: Turkish capitalises ``i``
as ``İ`` (Python's ``str.upper`` gives ``I``: "Iptal edildi" for "iptal edildi")."""


def capfirst_localized() -> None:
    """Put ``capfirst`` in place of Django's: in ``django.utils.text``, in the modules that
    imported it by name (the admin's column headers, form labels, messages) and as the
    ``capfirst`` template filter. Our own code imports it from here."""
    # here: the modules below import the admin and forms, which need the app registry
    import django.contrib.admin.helpers
    import django.contrib.admin.options
    import django.contrib.admin.sites
    import django.contrib.admin.templatetags.admin_list
    import django.contrib.admin.utils
    import django.contrib.auth.forms
    import django.db.models.base
    import django.db.models.fields
    import django.forms.models
    import django.utils.text
    from django.template import defaultfilters

    for module in (
        django.utils.text,
        django.contrib.admin.helpers,
        django.contrib.admin.options,
        django.contrib.admin.sites,
        django.contrib.admin.templatetags.admin_list,
        django.contrib.admin.utils,
        django.contrib.auth.forms,
        django.db.models.base,
        django.db.models.fields,
        django.forms.models,
    ):
        module.capfirst = capfirst

    @defaultfilters.stringfilter
    def capfirst_filter(value):
        return value and _capfirst(value)

    filter_function = defaultfilters.register.filter("capfirst", capfirst_filter, is_safe=True)
    defaultfilters.capfirst = filter_function


def email_address(text: str) -> str:
    """An e-mail address as typed, in the one form it is stored, compared and sent to: NFKC
    (a full-width ``ｄ`` is ``d``), trimmed, the domain in its ASCII (IDNA 2008, UTS 46) form,
    all in lower case; a Turkish ``İ`` is an ``i`` (caps lock on a Turkish keyboard), and so
    is an ``ı`` before the @. ``ValueError`` with a message for an invisible character anywhere or a
    letter beyond ASCII before the @: ``viewer@demo002.example.com`` followed by a zero-width
    space, or ``fi̇nance@`` (an i and a combining dot), looked like another user's address and
    reached that user's mailbox."""
    address = unicodedata.normalize("NFKC", text or "").strip()
    for char in address:
        if not char.isprintable() or _IGNORABLE.match(char) or char.isspace():
            raise ValueError(
                _("An e-mail address cannot hold invisible characters or spaces (U+%(code)04X).")
                % {"code": ord(char)}
            )
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(_("Enter a valid e-mail address."))
    local = local.replace("İ", "I").replace("ı", "i")
    # UTS 46 lower-cases İ to an i with a combining dot (another domain, which no Turkish
    # registry takes): in a Turkish name it is the capital of i
    domain = domain.replace("İ", "i")
    if not local.isascii():
        raise ValueError(_("Before the @: only Latin letters without accents, digits and signs."))
    try:
        domain = idna.encode(domain.rstrip("."), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise ValueError(_("This is not a valid e-mail domain.")) from None
    return f"{local}@{domain}".lower()


def email_typed(text: str) -> str:
    """An address typed to sign in or to ask for a link, in the form addresses are stored
    (``email_address``), or as typed in lower case when it is no address we would store (it
    then matches nobody)."""
    try:
        return email_address(text)
    except ValueError:
        return (text or "").strip().lower()


_PHONE = re.compile(r"\+?[0-9 ().\-/]+")


def phone_problem(value: str) -> str | None:
    """Why ``value`` is not a phone number as people write it, else None (blank passes: the
    field says whether one is required): digits with spaces, brackets, dots, dashes or
    slashes, ``+`` first for a country code, and 7 to 15 digits (E.164's most)."""
    if not value:
        return None
    digits = sum(char in "0123456789" for char in value)
    if _PHONE.fullmatch(value) is None or not 7 <= digits <= 15:
        return gettext_lazy(
            "Enter a phone number: 7 to 15 digits, written with spaces, brackets or dashes if "
            "you like, and + before a country code (+90 212 555 01 01)."
        )
    return None


_POSTAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \-]{1,9}")


def postal_code_problem(value: str) -> str | None:
    """Why ``value`` is not a postal code of any country, else None (blank passes): letters,
    digits, spaces and dashes, at least one digit (``34394``, ``SW1A 1AA``, ``10115``)."""
    if value and (
        _POSTAL_CODE.fullmatch(value) is None or not any(c in "0123456789" for c in value)
    ):
        return gettext_lazy(
            "Enter a postal code: 2 to 10 letters and digits, with at least one digit."
        )
    return None


def phone_text(value: str) -> None:
    """A model field's validator: ``phone_problem`` (the back office's forms and imports
    check a phone number as the APIs do)."""
    if problem := phone_problem(value):
        raise DjangoValidationError(problem, code="invalid")


def postal_code_text(value: str) -> None:
    """A model field's validator: ``postal_code_problem``."""
    if problem := postal_code_problem(value):
        raise DjangoValidationError(problem, code="invalid")
