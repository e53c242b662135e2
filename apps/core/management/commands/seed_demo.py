"""Idempotent demo data for the zero-setup demo and for load benchmarks.

Running it twice leaves the same data; ``--reset`` removes the demo data first. Each domain adds
a step to ``STEPS`` (a function taking the command's options and returning lines to print).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from apps.accounts.demo import STEPS as ACCOUNTS_STEPS
from apps.catalog.demo import STEPS as CATALOG_STEPS
from apps.orders.demo import STEPS as ORDERS_STEPS
from apps.pricing.demo import STEPS as PRICING_STEPS

DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_ADMIN_PASSWORD = "admin-demo-2026"  # noqa: S105 - a demo login, printed on purpose


def seed_staff(options) -> list[str]:
    User = get_user_model()
    user = User.objects.filter(email__iexact=DEMO_ADMIN_EMAIL).first()
    if user is None:
        user = User.objects.create_superuser(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    else:
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(DEMO_ADMIN_PASSWORD)
        user.save()
    user.first_name, user.last_name = "Demo", "Admin"
    user.save(update_fields=["first_name", "last_name"])
    return [f"staff (super admin): {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}"]


def reset_staff(options) -> None:
    get_user_model().objects.filter(email__iexact=DEMO_ADMIN_EMAIL).delete()


# (name, seed, reset) in dependency order; later domains append their own steps
STEPS = [
    ("staff", seed_staff, reset_staff),
    *ACCOUNTS_STEPS,  # staff of the other roles; demo dealers with their users and addresses
    *CATALOG_STEPS,  # categories, brands, --products N products; their stock in IST and ANK
    *PRICING_STEPS,  # LIST/tier prices, special prices of DEMO001, two campaigns
    *ORDERS_STEPS,  # ledgers of the demo dealers; orders in every status for three of them
]


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise CommandError(f"expected a whole number, got {value!r}") from exc
    if number < 0:
        raise CommandError(f"expected a number >= 0, got {number}")
    return number


class Command(BaseCommand):
    help = "Create (or refresh) demo data and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--products", type=positive_int, default=200, help="demo products (DEMO-000001...)"
        )
        parser.add_argument(
            "--dealers", type=positive_int, default=5, help="demo dealers (at least 4)"
        )
        parser.add_argument("--reset", action="store_true", help="delete demo data first")

    def handle(self, *args, **options):
        lines: list[str] = []
        with transaction.atomic():
            if options["reset"]:
                for _name, _seed, reset in reversed(STEPS):
                    reset(options)
            progress = tqdm(STEPS, desc="seed_demo", unit="step", disable=options["verbosity"] < 1)
            for name, seed, _reset in progress:
                progress.set_postfix_str(name)
                lines.extend(seed(options))
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write("Logins:")
        for line in lines:
            self.stdout.write(f"  {line}")
