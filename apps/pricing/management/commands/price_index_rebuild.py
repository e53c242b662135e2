"""``manage.py price_index_rebuild``: rebuild the price index (``apps.pricing.index``) for every
product in every tier, with a progress bar; run it after loading prices by hand, or whenever
the index is in doubt (the catalog keeps answering meanwhile)."""

from __future__ import annotations

import time

from tqdm import tqdm

from apps.core.commands import OneLineErrorsCommand
from apps.pricing.index import CONTEXTS, price_index_rebuild


class Command(OneLineErrorsCommand):
    help = "Rebuild the price index the catalog sorts and filters by price on."

    def handle(self, *args, **options):
        started = time.monotonic()
        bar = tqdm(
            desc="price index", unit="product", unit_scale=True, disable=options["verbosity"] < 1
        )
        done = {"products": 0}

        def progress(current: int, total: int) -> None:
            bar.total = total
            bar.update(current - done["products"])
            done["products"] = current

        written = price_index_rebuild(progress=progress)
        bar.close()
        self.stdout.write(
            f"Price index rebuilt: {done['products']:,} products x {len(CONTEXTS)} tiers, "
            f"{written:,} rows written in {time.monotonic() - started:.1f} s."
        )
