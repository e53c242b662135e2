"""What product search looks at: one text per product, kept in ``Product.search_document``."""

from __future__ import annotations

from typing import Any


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
    return " ".join(part.strip() for part in parts if part and str(part).strip()).lower()
