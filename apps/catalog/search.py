"""What product search looks at: one text per product, kept in ``Product.search_document``,
folded by ``search_fold`` (as every search term is)."""

from __future__ import annotations

from typing import Any

# Turkish letters to their plain Latin base: dealers type BOĞAZİÇİ, boğaziçi, bogazici or a
# lowercase ı for I alike, and Python's lower() has no Turkish rules ("İ" becomes "i" with a
# combining dot, "I" never becomes "ı"). A few accented letters of loan words too (â, î, û).
_FOLD = str.maketrans(
    {
        "ı": "i",
        "İ": "i",
        "ş": "s",
        "Ş": "s",
        "ğ": "g",
        "Ğ": "g",
        "ç": "c",
        "Ç": "c",
        "ö": "o",
        "Ö": "o",
        "ü": "u",
        "Ü": "u",
        "â": "a",
        "Â": "a",
        "î": "i",
        "Î": "i",
        "û": "u",
        "Û": "u",
        "\u0307": None,  # the combining dot another lower() left on an i
    }
)
# (migration catalog 0006 folded the documents stored before, with its own copy of the letters)


def search_fold(text: str) -> str:
    """``text`` as search compares it: Turkish letters folded to their base, lower-cased."""
    return text.translate(_FOLD).lower()


def build_search_document(
    *,
    sku: str,
    name: str,
    brand_name: str | None,
    barcodes: list[str] | None,
    attributes: dict[str, Any] | None,
) -> str:
    parts = [sku, name, brand_name or ""]
    parts.extend(str(code) for code in (barcodes or []))
    parts.extend(str(value) for value in (attributes or {}).values() if not isinstance(value, bool))
    return search_fold(" ".join(part.strip() for part in parts if part and str(part).strip()))
