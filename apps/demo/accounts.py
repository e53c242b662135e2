"""Demo data of the accounts domain: staff users for the staff roles, and demo dealers with a
user for each dealer role and a billing and a shipping address.

These are steps of ``seed_demo`` (``STEPS``: name, seed, reset). Everything is keyed by
stable natural keys (the ``DEMO001``... customer codes and fixed e-mail addresses), so a
second run brings the rows back to the demo state instead of adding rows; ``reset`` deletes
them. The passwords are fixed and printed on purpose: this is demo data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management.base import CommandError
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission
from stdnum.tr import vkn
from tqdm import tqdm

from apps.accounts import lockout
from apps.accounts.models import (
    Address,
    AuthEvent,
    Consent,
    CreditLimitChange,
    Customer,
    CustomerStatus,
    DealerRole,
    Tier,
    User,
)
from apps.accounts.roles import DEALER_ROLE_GROUPS
from apps.accounts.services.addresses import address_create, address_update
from apps.accounts.services.auth import auth_event_record
from apps.accounts.services.customers import (
    SALES_REP_OBJECT_PERMS,
    customer_assign_sales_rep,
    customer_set_credit_limit,
)
from apps.accounts.services.users import user_sync_role_group
from apps.demo.two_factor import login_lines as two_factor_login_lines
from apps.demo.two_factor import seed_two_factor

DEMO_STAFF_PASSWORD = "Demo-Staff-2026"  # noqa: S105 - a demo login, printed on purpose
DEMO_DEALER_PASSWORD = "Demo-Dealer-2026"  # noqa: S105 - a demo login, printed on purpose

# (e-mail, group, first name, last name)
DEMO_STAFF = [
    ("sales.manager@example.com", "Sales Manager", "Selin", "Kaya"),
    ("finance.manager@example.com", "Finance Manager", "Murat", "Demir"),
    ("customer.service@example.com", "Customer Service", "Elif", "Şahin"),
    ("content.manager@example.com", "Content Manager", "Deniz", "Aydın"),
]
DEMO_SALES_MANAGER_EMAIL = DEMO_STAFF[0][0]
DEMO_FINANCE_MANAGER_EMAIL = DEMO_STAFF[1][0]
DEMO_CUSTOMER_SERVICE_EMAIL = DEMO_STAFF[2][0]
DEMO_CONTENT_MANAGER_EMAIL = DEMO_STAFF[3][0]
DEMO_TWO_FACTOR_STAFF = [DEMO_FINANCE_MANAGER_EMAIL]  # STAFF_TWO_FACTOR_GROUPS' default


def demo_staff(email: str) -> User | None:
    """The demo staff member who does a seeded step (recorded as who did it), if active."""
    return User.objects.filter(email__iexact=email, is_active=True, is_staff=True).first()


def admin_logged(by: User | None, obj, *fields: str) -> None:
    """What the back office records when staff change ``obj`` there (the admin's "Recent
    actions" and the object's history page): a seeded step does it through the service the
    admin calls, which leaves that to the admin. ``fields``: the verbose names changed."""
    if by is not None:
        message = [{"changed": {"fields": list(fields)}}]
        LogEntry.objects.log_actions(by.pk, [obj], CHANGE, message, single_object=True)


DEMO_CODE_PREFIX = "DEMO"
DEMO_CODE_RE = r"^DEMO[0-9]{3}$"
MIN_DEALERS = 4  # tiers A, B and C each appear, and one dealer waits for approval
MAX_DEALERS = 999  # codes DEMO001..DEMO999
PENDING_POSITION = 4  # DEMO004 is the pending one, whatever --dealers says

TIER_TERMS = {  # credit limit (TRY) and payment terms (days) per tier
    Tier.A: (Decimal("500000.00"), 60),
    Tier.B: (Decimal("250000.00"), 45),
    Tier.C: (Decimal("100000.00"), 30),
}
PURCHASING_ORDER_LIMIT = Decimal("25000.00")

_COMPANIES = [
    ("Anadolu Yapı Market A.Ş.", "İstanbul", "Ümraniye", "34760"),
    ("Ege Teknik Hırdavat Ltd. Şti.", "İzmir", "Bornova", "35040"),
    ("Marmara Elektrik Ltd. Şti.", "Bursa", "Nilüfer", "16110"),
    ("Karadeniz Tesisat Ticaret Ltd. Şti.", "Trabzon", "Ortahisar", "61030"),
    ("Akdeniz Endüstri A.Ş.", "Antalya", "Muratpaşa", "07100"),
    ("Başkent Yapı Malzemeleri Ltd. Şti.", "Ankara", "Çankaya", "06690"),
    ("Trakya Hırdavat Ltd. Şti.", "Edirne", "Merkez", "22100"),
    ("Kapadokya Teknik A.Ş.", "Nevşehir", "Merkez", "50100"),
]

# (role, first name, last name, order limit)
_PEOPLE = [
    (DealerRole.OWNER, "Ahmet", "Yılmaz", None),
    (DealerRole.PURCHASING, "Zeynep", "Arslan", PURCHASING_ORDER_LIMIT),
    (DealerRole.FINANCE, "Mehmet", "Öztürk", None),
    (DealerRole.VIEWER, "Ayşe", "Çelik", None),
]


@dataclass(frozen=True)
class DemoDealer:
    position: int
    code: str
    name: str
    tax_number: str
    tier: str
    status: str
    city: str
    district: str
    postal_code: str

    @property
    def is_active(self) -> bool:
        return self.status == CustomerStatus.ACTIVE

    @property
    def opened_days_ago(self) -> int:
        """When the account was opened: the pending one yesterday, the others 7-14 months
        ago, before their first invoices."""
        return 1 if self.status == CustomerStatus.PENDING else 220 + (self.position * 37) % 200

    @property
    def roles(self) -> list[tuple]:
        # a pending company has only the owner who registered it
        return _PEOPLE if self.is_active else _PEOPLE[:1]

    @property
    def assigned_to_sales_manager(self) -> bool:
        return self.is_active and self.position % 2 == 1

    def email(self, role: str) -> str:
        return f"{role}@{self.code.lower()}.example.com"


def demo_vkn(position: int) -> str:
    """A valid VKN per demo dealer (check digit by python-stdnum), far from real-looking ones."""
    base = f"9{position:08d}"
    return base + vkn.calc_check_digit(base)


def demo_dealer(position: int) -> DemoDealer:
    """The demo dealer at ``position`` (1-based). The same position always gives the same
    dealer: DEMO004 is pending, the active ones take tiers A, B, C in turn."""
    pending = position == PENDING_POSITION
    active_index = position - 1 if position < PENDING_POSITION else position - 2
    if position <= len(_COMPANIES):
        name, city, district, postal_code = _COMPANIES[position - 1]
    else:
        _n, city, district, postal_code = _COMPANIES[(position - 1) % len(_COMPANIES)]
        name = f"Demo Bayi {position} Ltd. Şti."
    return DemoDealer(
        position=position,
        code=f"{DEMO_CODE_PREFIX}{position:03d}",
        name=name,
        tax_number=demo_vkn(position),
        tier=Tier.C if pending else "ABC"[active_index % 3],
        status=CustomerStatus.PENDING if pending else CustomerStatus.ACTIVE,
        city=city,
        district=district,
        postal_code=postal_code,
    )


def demo_dealers(count: int) -> list[DemoDealer]:
    return [demo_dealer(position) for position in range(1, max(count, MIN_DEALERS) + 1)]


def _set_if_changed(instance, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _ensure_password(user: User, password: str) -> None:
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password", "updated_at"])
    _unlock(user)


def _unlock(user: User) -> None:
    """Demo logins always work after a seed: a lock (in Redis, or in the records of failed
    logins) is lifted as staff lift it, with an unlock event."""
    if lockout.is_account_locked(user.email):
        auth_event_record(kind=AuthEvent.Kind.UNLOCK, user=user, detail="demo seed")
    lockout.unlock_account(user.email)


def _role_group(name: str) -> Group:
    group = Group.objects.filter(name=name).first()
    if group is None:
        raise CommandError(f"group {name!r} is missing: run `manage.py migrate` first")
    return group


# --- staff ------------------------------------------------------------------------------------


def seed_staff_roles(options) -> list[str]:
    """A staff user for each of Sales Manager, Finance Manager and Customer Service."""
    lines = []
    for email, group_name, first_name, last_name in DEMO_STAFF:
        group = _role_group(group_name)
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(
                email,
                DEMO_STAFF_PASSWORD,
                first_name=first_name,
                last_name=last_name,
                is_staff=True,
            )
        else:
            values = {
                "first_name": first_name,
                "last_name": last_name,
                "customer": None,
                "role": "",
                "order_limit": None,
                "is_staff": True,
                "is_superuser": False,
                "is_active": True,
                "is_deleted": False,
                "deleted_at": None,
            }
            if _set_if_changed(user, values):
                user.save()
            _ensure_password(user, DEMO_STAFF_PASSWORD)
        user.groups.set([group])
        lines.append(staff_login_line(email, group_name))
        if email in DEMO_TWO_FACTOR_STAFF:  # the role requires two-factor sign-in
            lines.extend(seed_two_factor([email]))
    return lines


def reset_staff_roles(options) -> None:
    """Nothing: the demo staff are kept (what they did is recorded under their user, and
    dealers may be assigned to them); the seed sets their passwords and roles again."""


# --- dealers ----------------------------------------------------------------------------------


def _seed_customer(dealer: DemoDealer) -> Customer:
    credit_limit, terms = _terms(dealer)
    values = _customer_values(dealer, terms)
    customer = Customer.all_objects.filter(code=dealer.code).first()
    if customer is None:
        customer = Customer(code=dealer.code)
    changed = _set_if_changed(customer, values)
    if dealer.is_active and customer.approved_at is None:
        customer.approved_at = customer.created_at
        changed = True
    if not dealer.is_active and customer.approved_at is not None:
        customer.approved_at = None
        changed = True
    if changed or customer.pk is None:
        try:
            customer.full_clean()
        except DjangoValidationError as exc:  # e.g. a real customer holds the demo VKN
            raise CommandError(f"demo dealer {dealer.code}: {' '.join(exc.messages)}") from exc
        customer.save()
    # through the service, so the credit limit has its history; a limit staff set last (the
    # demo's credit review, or anyone's since) is theirs to keep
    last = CreditLimitChange.objects.filter(customer=customer).order_by("-changed_at", "-pk")
    if last.values_list("changed_by", flat=True).first() is not None:
        return customer
    return customer_set_credit_limit(
        customer=customer,
        new_limit=credit_limit,
        by=None,
        reason="demo data",
        source=CreditLimitChange.Source.SYSTEM,
    )


def _create_customers(dealers: list[DemoDealer], rep: User | None) -> dict[str, Customer]:
    """The demo dealers that do not exist yet, set-based: the rows ``_seed_customer``,
    ``_seed_addresses`` and ``customer_assign_sales_rep`` would leave (the customer with its
    credit limit and its history row, its two default addresses, the sales manager's object
    permissions), a few statements for all of them instead of some thirty per dealer. No
    audit-log entries nor ``customer.updated`` events: bulk SQL sends no signals, and nobody
    subscribes to demo data."""
    if not dealers:
        return {}
    now = timezone.now()
    customers = []
    for dealer in dealers:
        credit_limit, terms = _terms(dealer)
        opened = now - timedelta(days=dealer.opened_days_ago)
        customer = Customer(
            code=dealer.code,
            credit_limit=credit_limit,
            created_at=opened,
            approved_at=opened + timedelta(days=1) if dealer.is_active else None,
            sales_rep=rep if dealer.assigned_to_sales_manager else None,
            **_customer_values(dealer, terms),
        )
        try:
            # the rep is the demo sales manager (staff); unique keys are checked below at once
            customer.full_clean(
                exclude=["sales_rep"], validate_unique=False, validate_constraints=False
            )
        except DjangoValidationError as exc:
            raise CommandError(f"demo dealer {dealer.code}: {' '.join(exc.messages)}") from exc
        customers.append(customer)
    taken = set(
        Customer.all_objects.filter(tax_number__in=[c.tax_number for c in customers]).values_list(
            "tax_number", flat=True
        )
    )
    if taken:  # e.g. a real customer holds a demo VKN
        raise CommandError(f"demo dealers: tax numbers taken by other customers: {sorted(taken)}")
    created = {c.code: c for c in Customer.objects.bulk_create(customers, batch_size=500)}
    CreditLimitChange.objects.bulk_create(
        [
            CreditLimitChange(
                customer=customer,
                old_limit=Decimal("0.00"),
                new_limit=customer.credit_limit,
                reason="demo data",
                source=CreditLimitChange.Source.SYSTEM,
            )
            for customer in created.values()
            if customer.credit_limit
        ],
        batch_size=500,
    )
    Address.objects.bulk_create(
        [
            Address(customer=created[dealer.code], **data)
            for dealer in dealers
            for data in _addresses(dealer)
        ],
        batch_size=500,
    )
    assigned = [c for c in created.values() if c.sales_rep_id is not None]
    if rep is not None and assigned:
        content_type = ContentType.objects.get_for_model(Customer)
        permissions = Permission.objects.filter(
            content_type=content_type,
            codename__in=[perm.split(".", 1)[1] for perm in SALES_REP_OBJECT_PERMS],
        )
        UserObjectPermission.objects.bulk_create(
            [
                UserObjectPermission(
                    user=rep, permission=permission, content_type=content_type, object_pk=str(c.pk)
                )
                for c in assigned
                for permission in permissions
            ],
            batch_size=1000,
        )
    return created


def _terms(dealer: DemoDealer) -> tuple[Decimal, int]:
    """(credit limit, payment terms in days): the tier's, nothing while pending."""
    return TIER_TERMS[dealer.tier] if dealer.is_active else (Decimal("0.00"), 30)


def _customer_values(dealer: DemoDealer, terms: int) -> dict:
    return {
        "name": dealer.name,
        "tax_number": dealer.tax_number,
        "tax_office": dealer.city,
        "phone": f"+90 212 555 {dealer.position // 100:02d} {dealer.position % 100:02d}",
        "email": dealer.email(DealerRole.OWNER),
        "tier": dealer.tier,
        "status": dealer.status,
        "status_reason": "",
        "payment_terms_days": terms,
        "is_deleted": False,
        "deleted_at": None,
    }


def _addresses(dealer: DemoDealer) -> list[dict]:
    """The billing and the shipping address of a demo dealer, each its type's default."""
    return [
        {
            "type": Address.Type.BILLING,
            "title": "Merkez (fatura)",
            "line1": f"Atatürk Cd. No: {dealer.position}",
            "district": dealer.district,
            "city": dealer.city,
            "postal_code": dealer.postal_code,
            "country": "TR",
            "is_default": True,
        },
        {
            "type": Address.Type.SHIPPING,
            "title": "Depo",
            "line1": f"Organize Sanayi Bölgesi {dealer.position}. Cd. No: 7",
            "district": dealer.district,
            "city": dealer.city,
            "postal_code": dealer.postal_code,
            "country": "TR",
            "is_default": True,
        },
    ]


def _seed_addresses(customer: Customer, dealer: DemoDealer) -> None:
    for data in _addresses(dealer):
        address = Address.objects.filter(
            customer=customer, type=data["type"], title=data["title"]
        ).first()
        if address is None:
            address_create(customer=customer, data=data, by=None)
        elif any(getattr(address, name) != value for name, value in data.items()):
            address_update(address=address, data=data, by=None)


class _DealerUsers:
    """The users of the demo dealers, seeded set-based: the existing ones read in one query,
    the new ones created together (``create``: one ``bulk_create`` and one insert of their
    role groups). Every demo dealer user has the same password, hashed once per run (Argon2
    costs about a tenth of a second a hash: 4,000 users took minutes), and a stored hash is
    checked once however many users share it."""

    def __init__(self, dealers: list[DemoDealer]):
        emails = [dealer.email(role) for dealer in dealers for role, *_rest in dealer.roles]
        self.existing = {
            user.email.lower(): user
            for user in User.objects.annotate(lower_email=Lower("email")).filter(
                lower_email__in=emails
            )
        }
        self.password = make_password(DEMO_DEALER_PASSWORD)
        self.checked: dict[str, bool] = {}  # stored hash -> it is the demo password
        self.new: list[User] = []

    def seed(self, customer: Customer, dealer: DemoDealer) -> list[str]:
        lines = []
        for role, first_name, last_name, order_limit in dealer.roles:
            email = dealer.email(role)
            user = self.existing.get(email)
            if user is None:
                self.new.append(
                    User(
                        email=email,
                        first_name=first_name,
                        last_name=last_name,
                        customer=customer,
                        role=role,
                        order_limit=order_limit,
                        is_active=True,
                        password=self.password,
                        # with the account (its owner) or soon after (the others)
                        date_joined=customer.created_at
                        + timedelta(hours=0 if role == DealerRole.OWNER else 26),
                    )
                )
            else:
                values = {
                    "customer": customer,
                    "role": role,
                    "first_name": first_name,
                    "last_name": last_name,
                    "order_limit": order_limit,
                    "is_staff": False,
                    "is_superuser": False,
                    "is_active": True,
                    "is_deleted": False,
                    "deleted_at": None,
                }
                if not self._is_demo_password(user.password):
                    values["password"] = self.password
                if _set_if_changed(user, values):
                    user.save()
                user_sync_role_group(user=user)
                _unlock(user)
            lines.append(dealer_login_line(dealer, role, active=customer.is_active_customer))
        return lines

    def _is_demo_password(self, stored: str) -> bool:
        if stored not in self.checked:
            self.checked[stored] = check_password(DEMO_DEALER_PASSWORD, stored)
        return self.checked[stored]

    def create(self) -> None:
        """The new users, each in the group of its role (as ``user_sync_role_group`` puts
        it), in two statements."""
        if not self.new:
            return
        names = DEALER_ROLE_GROUPS.values()
        groups = {group.name: group for group in Group.objects.filter(name__in=names)}
        created = User.objects.bulk_create(self.new, batch_size=1000)
        memberships = []
        for user in created:
            name = DEALER_ROLE_GROUPS[user.role]
            if name not in groups:
                groups[name] = Group.objects.get_or_create(name=name)[0]
            memberships.append(User.groups.through(user_id=user.pk, group_id=groups[name].pk))
        User.groups.through.objects.bulk_create(memberships, batch_size=1000)
        self.new = []


def dealer_login_line(dealer: DemoDealer, role: str, *, active: bool) -> str:
    """``active``: the company as it is now (staff may have approved the pending one)."""
    note = "" if active else " - company pending approval: approve it to log in"
    return f"dealer: {dealer.email(role)} / {DEMO_DEALER_PASSWORD} ({role}, {dealer.code}){note}"


def staff_login_line(email: str, group_name: str) -> str:
    return f"staff ({group_name.lower()}): {email} / {DEMO_STAFF_PASSWORD}"


def login_lines(options) -> list[str]:
    """The logins the staff and dealer steps print, without seeding (the data is there)."""
    lines = []
    for email, group_name, *_rest in DEMO_STAFF:
        lines.append(staff_login_line(email, group_name))
        if email in DEMO_TWO_FACTOR_STAFF:
            lines.extend(two_factor_login_lines([email]))
    dealers = demo_dealers(options["dealers"])
    active = set(
        Customer.objects.filter(
            code__in=[dealer.code for dealer in dealers], status=CustomerStatus.ACTIVE
        ).values_list("code", flat=True)
    )
    for dealer in dealers:
        lines.extend(
            dealer_login_line(dealer, role, active=dealer.code in active)
            for role, *_rest in dealer.roles
        )
    return lines


def seeded(options) -> bool:
    """Cheaply: the staff and the requested demo dealers with their users are there."""
    dealers = demo_dealers(options["dealers"])
    emails = [email for email, *_rest in DEMO_STAFF]
    emails += [dealer.email(role) for dealer in dealers for role, *_rest in dealer.roles]
    users = User.objects.filter(email__in=emails, is_active=True, is_deleted=False).count()
    customers = Customer.objects.filter(code__in=[d.code for d in dealers]).count()
    return users == len(emails) and customers == len(dealers)


def seed_dealers(options) -> list[str]:
    """``--dealers N`` demo dealers (at least MIN_DEALERS), each with its users and addresses;
    the odd-numbered active ones are assigned to the demo sales manager."""
    requested = options["dealers"]
    if requested > MAX_DEALERS:
        raise CommandError(f"--dealers: at most {MAX_DEALERS} demo dealers, got {requested}")
    dealers = demo_dealers(requested)
    sales_manager = User.objects.filter(email__iexact=DEMO_SALES_MANAGER_EMAIL).first()
    notes = [f"{d.code} pending approval" for d in dealers if not d.is_active]
    if requested < MIN_DEALERS:
        notes.append(f"--dealers {requested} raised to the minimum of {MIN_DEALERS}")
    extra = _demo_customers().filter(code__gt=dealers[-1].code).count()
    if extra:
        notes.append(f"{extra} more from an earlier run kept; --reset removes them")
    lines = [f"demo dealers: {dealers[0].code}..{dealers[-1].code} ({'; '.join(notes)})"]
    progress = tqdm(
        dealers,
        desc="demo dealers",
        unit="dealer",
        leave=False,
        disable=options.get("verbosity", 1) < 1,
    )
    users = _DealerUsers(dealers)
    known = set(
        Customer.all_objects.filter(code__in=[d.code for d in dealers]).values_list(
            "code", flat=True
        )
    )
    new_customers = _create_customers([d for d in dealers if d.code not in known], sales_manager)
    for dealer in progress:
        customer = new_customers.get(dealer.code)
        if customer is None:  # from an earlier run: brought back to the demo state
            customer = _seed_customer(dealer)
            _seed_addresses(customer, dealer)
            rep = sales_manager if dealer.assigned_to_sales_manager else None
            if rep is not None or customer.sales_rep_id is not None:
                customer_assign_sales_rep(customer=customer, rep=rep, by=None)
        lines.extend(users.seed(customer, dealer))
    users.create()
    _seed_consents()
    assigned = [d.code for d in dealers if d.assigned_to_sales_manager]
    if sales_manager is not None:
        lines.append(f"{DEMO_SALES_MANAGER_EMAIL} is the sales rep of {', '.join(assigned)}")
    return lines


def _demo_customers():
    return Customer.all_objects.filter(code__regex=DEMO_CODE_RE)


def _seed_consents() -> None:
    """What each demo dealer user accepted when the account was opened (terms of sale, the
    KVKK notice; marketing messages for owners), and an owner of the first dealer who later
    turned marketing off: the profile page shows answers and a history. Users that have
    consents are left alone."""
    users = (
        User.objects.filter(customer__in=_demo_customers(), consents__isnull=True)
        .order_by("pk")
        .values_list("pk", "role", "date_joined", "customer__code")
    )
    rows = []
    for pk, role, joined, code in users:
        kinds = [
            (Consent.Kind.TERMS, settings.TERMS_VERSION),
            (Consent.Kind.KVKK, settings.KVKK_VERSION),
        ]
        if role == DealerRole.OWNER:
            kinds.append((Consent.Kind.MARKETING, settings.KVKK_VERSION))
        rows.extend(
            Consent(user_id=pk, kind=kind, version=version, granted=True, at=joined)
            for kind, version in kinds
        )
        if role == DealerRole.OWNER and code == "DEMO001":
            rows.append(
                Consent(
                    user_id=pk,
                    kind=Consent.Kind.MARKETING,
                    version=settings.KVKK_VERSION,
                    granted=False,
                    # three days later (never in the future: an account opened today)
                    at=max(joined, min(joined + timedelta(days=3), timezone.now())),
                )
            )
    Consent.objects.bulk_create(rows, batch_size=2000)


def reset_dealers(options) -> None:
    """Delete every demo dealer (whatever --dealers said before) with its users, addresses,
    credit limit history and object permissions. Users go first: they PROTECT the company.
    Auth events, tokens and audit log entries keep their rows (their user becomes null)."""
    customer_ids = list(_demo_customers().values_list("pk", flat=True))
    users = User.objects.filter(
        Q(customer_id__in=customer_ids) | Q(email__iregex=r"@demo[0-9]{3}\.example\.com$")
    )
    users.delete()  # guardian's user object permissions and consents cascade
    Address.all_objects.filter(customer_id__in=customer_ids).delete()
    CreditLimitChange.objects.filter(customer_id__in=customer_ids).delete()
    content_type = ContentType.objects.get_for_model(Customer)
    object_pks = [str(pk) for pk in customer_ids]
    for model in (UserObjectPermission, GroupObjectPermission):
        model.objects.filter(content_type=content_type, object_pk__in=object_pks).delete()
    Customer.all_objects.filter(pk__in=customer_ids).delete()


# (name, seed, reset) in dependency order: the sales manager exists before dealers are
# assigned to them; reset runs in reverse order
STEPS = [
    ("staff roles", seed_staff_roles, reset_staff_roles),
    ("dealers", seed_dealers, reset_dealers),
]
