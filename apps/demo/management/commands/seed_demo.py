"""Idempotent demo data for the zero-setup demo and for load benchmarks.

Running it twice leaves the same data; ``--reset`` removes the demo data first. Each domain adds
a step to ``STEPS`` (a function taking the command's options and returning lines to print).
"""

from __future__ import annotations

import argparse

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from tqdm import tqdm

from apps.accounts.models import Customer
from apps.campaigns.models import Campaign, CollectionItem
from apps.catalog.models import Product
from apps.core.commands import OneLineErrorsCommand
from apps.demo import accounts, catalog, integration, two_factor
from apps.demo.accounts import STEPS as ACCOUNTS_STEPS
from apps.demo.catalog import SKU_PREFIX
from apps.demo.catalog import STEPS as CATALOG_STEPS
from apps.demo.edits import STEPS as EDITS_STEPS
from apps.demo.finance import STEPS as FINANCE_STEPS
from apps.demo.integration import STEPS as INTEGRATION_STEPS
from apps.demo.orders import DEMO_CODE_RE
from apps.demo.orders import STEPS as ORDERS_STEPS
from apps.demo.pricing import CAMPAIGN_NAMES, COLLECTIONS
from apps.demo.pricing import STEPS as PRICING_STEPS
from apps.demo.quotes import STEPS as QUOTES_STEPS
from apps.demo.returns import STEPS as RETURNS_STEPS
from apps.demo.schedule import STEPS as SCHEDULE_STEPS
from apps.demo.sign_ins import STEPS as SIGN_IN_STEPS
from apps.demo.webhooks import STEPS as WEBHOOKS_STEPS
from apps.finance.models import LedgerEntry
from apps.pricing.models import Price, SpecialPrice

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
    # a superuser signs in with a code too: an authenticator with a printed demo secret
    return [admin_login_line(), *two_factor.seed_two_factor([DEMO_ADMIN_EMAIL])]


def reset_staff(options) -> None:
    """Nothing: the demo super admin is kept (what staff did is recorded under their user, and
    dealers may be assigned to the demo staff); the seed sets its password and name again."""


# (name, seed, reset) in dependency order; later domains append their own steps
STEPS = [
    ("staff", seed_staff, reset_staff),
    *ACCOUNTS_STEPS,  # staff of the other roles; demo dealers with their users and addresses
    # the ERP connector's endpoint at ./dev demo's receiver (PostgreSQL): the events that follow
    # are delivered to it, signed
    *WEBHOOKS_STEPS,
    *CATALOG_STEPS,  # categories, brands, --products N products; their stock in IST and ANK
    *PRICING_STEPS,  # LIST/tier prices, special prices of DEMO001, two campaigns
    *ORDERS_STEPS,  # orders in every status for three demo dealers
    *FINANCE_STEPS,  # ledgers: e-invoices, payments, aging, reminders, a balance confirmation
    *RETURNS_STEPS,  # returns of the delivered orders in each state
    *QUOTES_STEPS,  # quotes waiting, answered and accepted; requisition lists
    *INTEGRATION_STEPS,  # the ERP's API key, and its batches of prices and stock
    *SCHEDULE_STEPS,  # the periodic tasks, as beat writes them (the demo runs no beat)
    *EDITS_STEPS,  # staff's edits of products, a credit limit, a price, an address: history
    *SIGN_IN_STEPS,  # the last week's sign-ins of the staff and the first dealers' users
]


def _refused(what: str) -> str:
    return (
        f"--reset cannot remove the demo data: other data refers to it ({what}); nothing was "
        "changed. Run without --reset."
    )


def _referring_table(exc: Exception) -> str:
    """Which table's rows refer to the demo data, from the database's refusal."""
    diag = getattr(exc.__cause__, "diag", None)
    table = getattr(diag, "table_name", None)
    if table:
        return f"rows of {table}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def reset_blockers() -> list[str]:
    """What other data holds on demo rows that the database would delete with them (cascades,
    no constraint): a reset refuses rather than remove or change it."""
    demo_products = Product.all_objects.filter(sku__startswith=SKU_PREFIX)
    demo_customers = Customer.all_objects.filter(code__regex=DEMO_CODE_RE)
    found = {
        "special prices of other dealers for demo products": SpecialPrice.objects.filter(
            product__in=demo_products
        ).exclude(customer__in=demo_customers),
        "campaigns naming demo products": Campaign.objects.filter(
            products__in=demo_products
        ).exclude(name__in=CAMPAIGN_NAMES),
        "collections holding demo products": CollectionItem.objects.filter(
            product__in=demo_products
        ).exclude(collection__slug__in=[slug for slug, *_rest in COLLECTIONS]),
    }
    return [f"{queryset.count()} {what}" for what, queryset in found.items() if queryset.exists()]


def admin_login_line() -> str:
    return f"staff (super admin): {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}"


def already_seeded(options) -> bool:
    """A handful of cheap queries: the last row each step writes for these options is there
    (the admin, staff and dealers with their users, the products with stock, their LIST price,
    the first dealer's ledger). Not a full check: ``--reseed``/``--reset`` repair anything."""
    admin = get_user_model().objects.filter(
        email__iexact=DEMO_ADMIN_EMAIL, is_superuser=True, is_active=True
    )
    if not (admin.exists() and accounts.seeded(options) and catalog.seeded(options)):
        return False
    if not two_factor.seeded([DEMO_ADMIN_EMAIL, accounts.DEMO_FINANCE_MANAGER_EMAIL]):
        return False
    count = options["products"]
    if (
        count
        and not Price.objects.filter(
            price_list__code="LIST", product__sku=catalog.demo_sku(count)
        ).exists()
    ):
        return False
    return LedgerEntry.objects.filter(customer__code=accounts.demo_dealer(1).code).exists()


def positive_int(value: str) -> int:
    """argparse's type of the counts: a bad one is argparse's one-line error (exit status 2)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {number}")
    return number


class Command(OneLineErrorsCommand):
    help = "Create (or refresh) demo data and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--products", type=positive_int, default=200, help="demo products (DEMO-000001...)"
        )
        parser.add_argument(
            "--dealers", type=positive_int, default=5, help="demo dealers (at least 4)"
        )
        parser.add_argument("--reset", action="store_true", help="delete demo data first")
        parser.add_argument(
            "--skip-if-seeded",
            action="store_true",
            help="only print the logins when the demo data is already there (--reset seeds anyway)",
        )

    def handle(self, *args, **options):
        # every argument checked before anything is written
        if options["products"] > catalog.MAX_PRODUCTS:
            raise CommandError(
                f"--products: at most {catalog.MAX_PRODUCTS} demo products, "
                f"got {options['products']}"
            )
        if options["dealers"] > accounts.MAX_DEALERS:
            raise CommandError(
                f"--dealers: at most {accounts.MAX_DEALERS} demo dealers, got {options['dealers']}"
            )
        if options["skip_if_seeded"] and not options["reset"] and already_seeded(options):
            self.stdout.write(self.style.SUCCESS("Demo data already there (not seeded again)."))
            self._logins(
                [
                    admin_login_line(),
                    *two_factor.login_lines([DEMO_ADMIN_EMAIL]),
                    *accounts.login_lines(options),
                    integration.login_line(),
                ]
            )
            return
        lines: list[str] = []
        with transaction.atomic():
            if options["reset"]:
                blockers = reset_blockers()
                if blockers:
                    raise CommandError(_refused(", ".join(blockers)))
                try:
                    with transaction.atomic():
                        for _name, _seed, reset in reversed(STEPS):
                            reset(options)
                        connection.check_constraints()  # the deferred foreign keys, now
                except (IntegrityError, ProtectedError) as exc:
                    # e.g. an order of a real dealer names a demo product: nothing is removed
                    raise CommandError(_refused(_referring_table(exc))) from exc
            progress = tqdm(STEPS, desc="seed_demo", unit="step", disable=options["verbosity"] < 1)
            for name, seed, _reset in progress:
                progress.set_postfix_str(name)
                lines.extend(seed(options))
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self._logins(lines)

    def _logins(self, lines: list[str]) -> None:
        self.stdout.write("Logins:")
        for line in lines:
            self.stdout.write(f"  {line}")
