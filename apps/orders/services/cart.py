"""The cart: one per user, holding products and quantities only. Prices are never stored in
it: every read prices it now (``apps.pricing.lines``). Adding a product that is already in the
cart adds to that line. Quick order: a CSV or Excel file of ``sku, quantity`` rows."""

from __future__ import annotations

import csv
import io
import math
import time
import zipfile
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from apps.catalog.models import Product
from apps.core.exceptions import NotFound, PayloadTooLarge, ValidationError
from apps.core.money import MAX_LINE_QUANTITY, quantity_clean
from apps.orders.models import Cart, CartItem, Order
from apps.pricing.lines import PricedLine, lines_price, products_by_sku

MAX_QUANTITY = MAX_LINE_QUANTITY
MAX_CART_LINES = 500
MAX_IMPORT_ROWS = 1000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_SCANNED_ROWS = 50 * MAX_IMPORT_ROWS  # blank ones included
MAX_IMPORT_CELL_CHARS = 1000  # a SKU or a quantity; a longer cell is not a quick order
IMPORT_TIME_LIMIT_SECONDS = 5.0  # reading the rows, after the size bounds below
MAX_XLSX_UNCOMPRESSED_BYTES = 10 * 1024 * 1024  # 1,000 two-column rows are ~100 KB of XML
MAX_XLSX_RATIO = 100  # unpacked / packed, for archives above 1 MB unpacked
MAX_XLSX_MEMBERS = 200


def cart_for(user) -> Cart:
    cart = Cart.objects.filter(user=user).first()
    if cart is not None:
        return cart
    try:
        with transaction.atomic():
            return Cart.objects.create(user=user, customer_id=user.customer_id)
    except IntegrityError:  # created by a parallel request
        return Cart.objects.get(user=user)


def cart_lock(cart_id: int) -> None:
    """One writer of a cart at a time (in a transaction): its lines are added, changed,
    removed and cleared one after the other. Two writers of one line once met halfway: a
    change of a line removed meanwhile answered 500, an add raced with emptying the cart
    found the line it collided with gone (500), and emptying the cart deadlocked with a
    list put into it (each locked the lines in its own order)."""
    Cart.objects.select_for_update().filter(pk=cart_id).values_list("pk").first()


def _add(cart: Cart, product: Product, quantity: int) -> CartItem:
    """Add to the line of ``product`` (created when missing), capped by MAX_QUANTITY."""
    item = CartItem.objects.select_for_update().filter(cart=cart, product=product).first()
    if item is None:
        if cart.items.count() >= MAX_CART_LINES:
            raise ValidationError(
                {"sku": [_("A cart holds at most %(n)d lines.") % {"n": MAX_CART_LINES}]}
            )
        try:
            with transaction.atomic():
                return CartItem.objects.create(cart=cart, product=product, quantity=quantity)
        except IntegrityError:
            item = CartItem.objects.select_for_update().get(cart=cart, product=product)
    if item.quantity + quantity > MAX_QUANTITY:
        raise ValidationError(
            {"quantity": [_("A line holds at most %(n)d units.") % {"n": MAX_QUANTITY}]}
        )
    CartItem.objects.filter(pk=item.pk).update(quantity=F("quantity") + quantity)
    item.refresh_from_db()
    return item


def cart_add(*, user, sku, quantity) -> CartItem:
    quantity = quantity_clean(quantity)
    sku = str(sku).strip()  # as the API's field and the quick order read it
    product = products_by_sku([sku]).get(sku)
    if product is None:
        raise ValidationError({"sku": [_("Unknown product.")]})
    cart = cart_for(user)
    with transaction.atomic():
        cart_lock(cart.pk)
        item = _add(cart, product, quantity)
        Cart.objects.filter(pk=cart.pk).update(updated_at=item.added_at)
    return item


def cart_item_update(*, item: CartItem, quantity) -> CartItem:
    """The line's new quantity; a line removed meanwhile (by another tab, or ordered): 404."""
    quantity = quantity_clean(quantity)
    with transaction.atomic():
        cart_lock(item.cart_id)
        if not CartItem.objects.filter(pk=item.pk).update(quantity=quantity):
            raise NotFound(_("This line is no longer in your cart."))
    item.quantity = quantity
    return item


def cart_item_delete(*, item: CartItem) -> None:
    with transaction.atomic():
        cart_lock(item.cart_id)
        CartItem.objects.filter(pk=item.pk).delete()  # removed meanwhile: gone either way


def cart_clear(*, user) -> None:
    with transaction.atomic():
        for cart_id in Cart.objects.filter(user=user).values_list("pk", flat=True):
            cart_lock(cart_id)
        CartItem.objects.filter(cart__user=user).delete()


# --- quick order --------------------------------------------------------------------------------


@dataclass
class ImportResult:
    added: int = 0
    rows: int = 0
    errors: list[dict] = field(default_factory=list)  # [{line, sku, error}]

    @property
    def failed(self) -> int:
        return len(self.errors)


class _RowLimit:
    """Collects the non-blank rows of an upload, at most ``MAX_IMPORT_ROWS`` of data (plus a
    header) among at most ``MAX_IMPORT_SCANNED_ROWS`` rows, within
    ``IMPORT_TIME_LIMIT_SECONDS``: a file that asks for more is refused."""

    def __init__(self):
        self.rows: list[tuple[int, list[str]]] = []
        self.deadline = time.monotonic() + IMPORT_TIME_LIMIT_SECONDS

    def add(self, number: int, cells) -> None:
        if number > MAX_IMPORT_SCANNED_ROWS:
            raise ValidationError(
                {"file": [_("At most %(n)d rows per file.") % {"n": MAX_IMPORT_ROWS}]}
            )
        if time.monotonic() > self.deadline:
            raise ValidationError(
                {"file": [_("The file takes too long to read; split it into smaller files.")]}
            )
        row = [_cell_text(value) for value in cells[:2]]
        if not any(cell.strip() for cell in row):
            return
        if len(self.rows) > MAX_IMPORT_ROWS:  # one more than allowed, beside a header
            raise ValidationError(
                {"file": [_("At most %(n)d rows per file.") % {"n": MAX_IMPORT_ROWS}]}
            )
        self.rows.append((number, row))


def _cell_text(value) -> str:
    """A cell as text; a whole float (Excel's numbers) without its ``.0``. NaN and infinity
    stay as words, so the row is reported as a bad quantity."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)[:MAX_IMPORT_CELL_CHARS]


def _rows_from_csv(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # what Turkish Excel writes for "CSV (comma delimited)": Windows-1254
            text = data.decode("cp1254")
        except UnicodeDecodeError:
            raise ValidationError(
                {"file": [_("The file is neither UTF-8 nor Turkish Windows (1254) text.")]}
            ) from None
    if "\x00" in text:
        raise ValidationError({"file": [_("The file is not a CSV file.")]})
    sample = text[:4096]
    # the separator used most: ";" (Turkish Excel), "," or a tab (a text file, a paste); a
    # tie goes to ";" (``SKU;3,00``: a decimal comma beside Excel's separator)
    delimiter = max((";", ",", "\t"), key=sample.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = _RowLimit()
    try:
        for number, row in enumerate(reader, start=1):
            if any("\n" in cell or "\r" in cell for cell in row[:2]):
                # a quotation mark not closed: the reader took the next lines into the cell,
                # and they were lost without a word
                raise ValidationError(
                    {
                        "file": [
                            _("Line %(line)d: a quotation mark is not closed.") % {"line": number}
                        ]
                    }
                )
            if any(len(cell) > MAX_IMPORT_CELL_CHARS for cell in row[:2]):
                raise ValidationError(
                    {
                        "file": [
                            _("Line %(line)d: a cell is longer than %(n)d characters.")
                            % {"line": number, "n": MAX_IMPORT_CELL_CHARS}
                        ]
                    }
                )
            rows.add(number, row)
    except csv.Error:  # a field past csv.field_size_limit(), a stray quote in strict mode
        raise ValidationError(
            {"file": [_("Line %(line)d cannot be read as CSV.") % {"line": reader.line_num}]}
        ) from None
    return rows.rows


def _check_xlsx_archive(data: bytes) -> None:
    """Refuse a zip that would unpack into more than MAX_XLSX_UNCOMPRESSED_BYTES (a "zip bomb":
    a few kilobytes that expand to gigabytes) before any of it is unpacked."""
    too_big = ValidationError(
        {
            "file": [
                _("The Excel file unpacks to more than %(n)d MB; it needs only two columns.")
                % {"n": MAX_XLSX_UNCOMPRESSED_BYTES // (1024 * 1024)}
            ]
        }
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_XLSX_MEMBERS:
            raise too_big
        unpacked = sum(member.file_size for member in members)
        packed = sum(member.compress_size for member in members)
        if unpacked > MAX_XLSX_UNCOMPRESSED_BYTES:
            raise too_big
        if unpacked > 1024 * 1024 and unpacked > MAX_XLSX_RATIO * max(packed, 1):
            raise too_big


def _rows_from_xlsx(data: bytes) -> list[tuple[int, list[str]]]:
    unreadable = ValidationError({"file": [_("The Excel file cannot be read.")]})
    try:
        _check_xlsx_archive(data)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ValidationError:
        raise
    except Exception:  # BadZipFile, KeyError, XML and openpyxl errors: the same 400
        raise unreadable from None
    try:
        if not book.worksheets:
            raise ValidationError({"file": [_("The Excel file has no worksheet.")]})
        rows = _RowLimit()
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # read every row there is, whatever the file claims
        for number, values in enumerate(sheet.iter_rows(max_col=2, values_only=True), start=1):
            rows.add(number, values)
        return rows.rows
    except ValidationError:
        raise
    except Exception:  # a damaged sheet is found while reading it
        raise unreadable from None
    finally:
        book.close()


def quick_order_rows(*, upload=None, text: str | None = None) -> list[tuple[int, list[str]]]:
    """The ``sku, quantity`` rows of a quick order, with their line numbers: from an upload (a
    CSV file, ``;`` or ``,``, UTF-8 with or without BOM or else Windows-1254 as Turkish Excel saves
    it, or an .xlsx file) or from pasted text
    (one product a line: the SKU, then the quantity after a tab, ``;``, ``,`` or spaces; a
    line without a quantity asks for 1). A header row is skipped. At most MAX_IMPORT_ROWS."""
    if text is not None:
        rows = _rows_from_text(text)
    else:
        if upload is None:
            raise ValidationError({"file": [_("Attach a CSV or Excel file.")]})
        if upload.size > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(_("The file is larger than 2 MB."))
        data = upload.read()
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE2: Excel 97-2003
            raise ValidationError(
                {"file": [_("Excel 97-2003 files (.xls) are not read: save it as .xlsx or CSV.")]}
            )
        is_xlsx = data[:4] in (b"PK\x03\x04", b"PK\x05\x06")  # a zip: local header, empty
        rows = _rows_from_xlsx(data) if is_xlsx else _rows_from_csv(data)
    if rows and _is_header(rows[0][1]):
        rows = rows[1:]
    source = "text" if text is not None else "file"
    if not rows:
        message = _("The list has no rows.") if text is not None else _("The file has no rows.")
        raise ValidationError({source: [message]})
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationError(
            {source: [_("At most %(n)d rows per file.") % {"n": MAX_IMPORT_ROWS}]}
        )
    return rows


def _rows_from_text(text: str) -> list[tuple[int, list[str]]]:
    if len(text) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(_("The list is longer than 2 MB."))
    rows = _RowLimit()
    for number, line in enumerate(text.splitlines(), start=1):
        for separator in ("\t", ";", ","):
            if separator in line:
                cells = [cell.strip() for cell in line.split(separator)]
                break
        else:
            cells = line.split()
        cells = [cell[:MAX_IMPORT_CELL_CHARS] for cell in cells]
        if len(cells) == 1 and cells[0]:
            cells.append("1")
        rows.add(number, cells)
    return rows.rows


def _rows_checked(rows, result: ImportResult) -> list[tuple[int, str, int]]:
    """``(line, sku, quantity)`` of the rows that read well; the others become errors."""
    wanted: list[tuple[int, str, int]] = []
    for number, row in rows:
        sku = (row[0] if row else "").strip()
        raw_quantity = (row[1] if len(row) > 1 else "").strip()
        if not sku:
            result.errors.append({"line": number, "sku": "", "error": _("The SKU is missing.")})
            continue
        try:  # a whole number written with decimals, as a spreadsheet formats it: "3,00"
            quantity = quantity_clean(raw_quantity)
        except ValidationError as exc:
            result.errors.append({"line": number, "sku": sku, "error": exc.errors["quantity"][0]})
            continue
        wanted.append((number, sku, quantity))
    return wanted


@dataclass
class PreviewLine:
    line: int
    sku: str
    quantity: int | None = None
    priced: PricedLine | None = None  # the dealer's price now and the line's problems
    error: str = ""  # the row will not be added

    @property
    def addable(self) -> bool:
        return not self.error


def quick_order_preview(*, user, rows) -> list[PreviewLine]:
    """What adding ``rows`` would do, without adding: each row with its product priced for
    the dealer now (problems such as the minimum quantity or the stock are warnings, as in the
    cart), or the reason it would not be added. Two queries and one price-engine call."""
    result = ImportResult(rows=len(rows))
    wanted = _rows_checked(rows, result)
    products = products_by_sku(sku for _n, sku, _q in wanted)
    known = [(n, products[sku], q) for n, sku, q in wanted if sku in products]
    priced = lines_price(customer=user.customer, pairs=[(p, q) for _n, p, q in known])
    lines = [PreviewLine(line=e["line"], sku=e["sku"], error=e["error"]) for e in result.errors]
    lines += [
        PreviewLine(line=n, sku=sku, quantity=q, error=_("Unknown product."))
        for n, sku, q in wanted
        if sku not in products
    ]
    lines += [
        PreviewLine(line=n, sku=p.sku, quantity=q, priced=line)
        for (n, p, q), line in zip(known, priced, strict=True)
    ]
    return sorted(lines, key=lambda line: line.line)


def cart_rows_add(*, user, rows) -> ImportResult:
    """Add the ``(line, [sku, quantity])`` rows to the user's cart: valid rows are added, each
    bad row is reported with its line number and reason."""
    result = ImportResult(rows=len(rows))
    wanted = _rows_checked(rows, result)
    products = products_by_sku(sku for _n, sku, _q in wanted)
    cart = cart_for(user)
    with transaction.atomic():
        cart_lock(cart.pk)
        for number, sku, quantity in wanted:
            product = products.get(sku)
            if product is None:
                result.errors.append({"line": number, "sku": sku, "error": _("Unknown product.")})
                continue
            try:
                with transaction.atomic():
                    _add(cart, product, quantity)
            except ValidationError as exc:
                message = next(iter(exc.errors.values()))[0]
                result.errors.append({"line": number, "sku": sku, "error": message})
                continue
            result.added += 1
    result.errors.sort(key=lambda error: error["line"])
    return result


def cart_import(*, user, upload) -> ImportResult:
    """Quick order from a file (``quick_order_rows``): valid rows are added, each bad row is
    reported with its line number and reason."""
    return cart_rows_add(user=user, rows=quick_order_rows(upload=upload))


HEADER_WORDS = {"sku", "stok kodu", "stok_kodu", "product", "code", "kod", "ürün"}
QUANTITY_WORDS = {"quantity", "qty", "miktar", "adet"}


def _is_header(row: list[str]) -> bool:
    """A first row naming its columns (``sku,quantity``, ``stok kodu;miktar``...)."""
    first = (row[0] if row else "").strip().lower()
    second = (row[1] if len(row) > 1 else "").strip().lower()
    return first in HEADER_WORDS or second in QUANTITY_WORDS


# --- reorder ------------------------------------------------------------------------------------


@dataclass
class ReorderResult:
    added: list[dict] = field(default_factory=list)  # [{sku, quantity}]
    skipped: list[dict] = field(default_factory=list)  # [{sku, reason}]


def order_reorder(*, user, order: Order) -> ReorderResult:
    """Put ``order``'s lines into the cart (today's prices apply when the cart is read).
    Lines whose product can no longer be ordered are reported, not added."""
    lines = list(order.lines.order_by("id"))
    products = products_by_sku(line.sku for line in lines)
    priced = {
        p.product.sku: p
        for p in lines_price(
            customer=user.customer,
            pairs=[(products[line.sku], line.quantity) for line in lines if line.sku in products],
        )
    }
    added, skipped = [], []
    cart = cart_for(user)
    with transaction.atomic():
        cart_lock(cart.pk)
        for line in lines:
            product = products.get(line.sku)
            if product is None:
                skipped.append({"sku": line.sku, "reason": _("No longer sold.")})
                continue
            if not priced[line.sku].price.sellable:
                skipped.append({"sku": line.sku, "reason": _("This product has no price for you.")})
                continue
            try:
                with transaction.atomic():
                    _add(cart, product, line.quantity)
            except ValidationError as exc:
                skipped.append({"sku": line.sku, "reason": next(iter(exc.errors.values()))[0]})
                continue
            added.append({"sku": line.sku, "quantity": line.quantity})
    return ReorderResult(added=added, skipped=skipped)
