"""``keys_check``: list the stored keys that today's key rules refuse (``key_problem``: nothing
invisible, no look-alike, Latin letters only beyond ASCII), one line each, and exit 1 if there
are any.

Keys stored before a rule existed stay as they are, but the ERP can no longer name them: a
feed's record that names ``M8×40`` or a Cyrillic ``ІЅТ`` now fails on its key. Run this after
an upgrade and rename those keys in the ERP and here together (the back office keeps a SKU
once saved; ``manage.py shell`` or the ERP's next full sync under the new key).
"""

from __future__ import annotations

import unicodedata

from django.db.models import Q

from apps.accounts.models import Customer
from apps.catalog.models import Product
from apps.core.commands import OneLineErrorsCommand
from apps.core.text import key_problem, sku_problem
from apps.finance.models import Invoice, LedgerEntry, Payment
from apps.inventory.models import SerialNumber, Warehouse
from apps.pricing.models import PriceList

# (model, key field): the keys the ERP's feeds and the back office name rows by
KEYS = (
    (Product, "sku"),
    (Warehouse, "code"),
    (PriceList, "code"),
    (Customer, "code"),
    (SerialNumber, "serial"),
    (Invoice, "number"),
    (Payment, "reference"),
    (LedgerEntry, "document_number"),
)


def key_problems():
    """``(label, pk, key, problem)`` of every stored key the rules refuse; the barcodes of
    products too. Reads only the keys that hold anything beyond printable ASCII, or a "/"."""
    for model, field in KEYS:
        suspect = ~Q(**{f"{field}__regex": r"^[ -~]*$"}) | Q(**{f"{field}__contains": "/"})
        rows = model._base_manager.filter(suspect).values_list("pk", field)
        check = sku_problem if (model, field) == (Product, "sku") else key_problem
        for pk, key in rows.iterator(chunk_size=2000):
            problem = check(unicodedata.normalize("NFC", key))
            if problem:
                yield f"{model._meta.label}.{field}", pk, key, problem
    products = Product._base_manager.exclude(barcodes=[]).values_list("pk", "barcodes")
    for pk, barcodes in products.iterator(chunk_size=2000):
        for code in barcodes if isinstance(barcodes, list) else ():
            problem = key_problem(unicodedata.normalize("NFC", str(code)))
            if problem:
                yield "catalog.Product.barcodes", pk, str(code), problem


class Command(OneLineErrorsCommand):
    help = (
        "List the stored keys (SKUs, codes, numbers, serials, barcodes) that the key rules "
        "refuse; exits 1 if there are any."
    )

    def handle(self, *args, **options):
        found = 0
        for label, pk, key, problem in key_problems():
            found += 1
            self.stdout.write(f"{label} id={pk} {key!a}: {problem}")
        if found:
            self.stdout.write(f"{found} key(s) the ERP can no longer name")
            raise SystemExit(1)
        self.stdout.write("every stored key follows the key rules")
