"""Record validation of the ERP batch frame, in process: the time to check one batch.

    .venv/bin/python bench/record_validation.py [--records 5000] [--rounds 7]

Validates ``--records`` product, stock, price and special-price records (the records
``bench/erp_sync.py`` pushes, plus one invalid record in ten: a missing field, a decimal with
five places, a time without a zone, a text too long) with each feed's ``validate_record``, the
frame's check before anything is read or written, and prints the best and the median of
``--rounds`` per resource, in ms per batch and records/s. No database is touched.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the script's directory last: a bench/<name>.py must not shadow a package (bench/request_cost.py)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from erp_sync import (  # noqa: E402
    price_records,
    product_records,
    special_price_records,
    stock_records,
)

from apps.integrations.api.feeds import (  # noqa: E402
    PriceBatchView,
    ProductBatchView,
    SpecialPriceBatchView,
    StockBatchView,
)


def _spoil(records: list[dict]) -> list[dict]:
    """One record in ten made invalid, in turn in four ways."""
    spoilt = []
    for n, record in enumerate(records):
        record = dict(record)
        if n % 10 == 9:
            kind = (n // 10) % 4
            if kind == 0:
                record.pop("sku")
            elif kind == 1 and "amount" in record:
                record["amount"] = "1.23456"
            elif kind == 2 and "amount" in record:
                record["valid_from"] = "2026-01-31T00:00:00"
            else:
                record["sku"] = "X" * 65
        spoilt.append(record)
    return spoilt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    n = args.records
    feeds = {
        "products": (ProductBatchView, product_records(n, 0)),
        "stock": (StockBatchView, stock_records(n, 1, 0)),
        "prices": (PriceBatchView, price_records(n // 5 + 1, 0)[:n]),
        "special-prices": (SpecialPriceBatchView, special_price_records(n, n, 10, 0)),
    }
    print(f"{n} records per batch, one in ten invalid; best / median of {args.rounds} rounds")
    print(f"{'resource':15} {'best ms':>8} {'median ms':>10} {'records/s':>10} {'failed':>7}")
    for name, (view_class, records) in feeds.items():
        records = _spoil(records)
        view = view_class()
        times, failed = [], 0
        for _round in range(args.rounds):
            started = time.perf_counter()
            failed = sum(1 for record in records if view.validate_record(record)[1])
            times.append(time.perf_counter() - started)
        best, median = min(times), statistics.median(times)
        print(
            f"{name:15} {best * 1000:8.1f} {median * 1000:10.1f} {len(records) / best:10,.0f} "
            f"{failed:7d}"
        )


if __name__ == "__main__":
    main()
