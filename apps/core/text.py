"""Text that PostgreSQL and UTF-8 can hold.

JSON and form bodies may carry NUL characters (``\\u0000``) and lone UTF-16 surrogates
(``\\ud800``): Python keeps them in ``str``, PostgreSQL refuses NUL in text, and neither can be
encoded as UTF-8 (to the database or in an answer). Input is refused with a message
(``check_text``, DRF's messages, as its ``CharField`` does); text that is echoed back (an error
message quoting the input, a stored answer) is made ``storable``.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy

_SURROGATE = re.compile("[\ud800-\udfff]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NULL_CHARACTERS = gettext_lazy("Null characters are not allowed.")
SURROGATES = gettext_lazy("Surrogate characters are not allowed: U+{code_point:X}.")


def check_text(text: str) -> None:
    """Text PostgreSQL can store: no NUL, no lone surrogate (``ValueError`` with a message)."""
    if "\x00" in text:
        raise ValueError(str(NULL_CHARACTERS))
    surrogate = _SURROGATE.search(text)
    if surrogate:
        raise ValueError(str(SURROGATES).format(code_point=ord(surrogate.group())))


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
