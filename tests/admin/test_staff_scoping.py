"""Staff see only what their role allows, on every back-office screen.

One mechanism (``DealerScopedAdminMixin``, apps/accounts/admin/scoping.py) scopes every admin
that shows dealer data to the staff member's role and assigned dealers. The walker below
requests every URL of every registered admin (change list, add, change, delete, history, audit
log, export, custom views), as every staff role, for objects of a dealer not assigned to them.

Nets for screens added later:
- every registered admin is dealer-scoped or listed in NO_DEALER_DATA with its reason;
- every scoped admin has a maker in OBJECT_MAKERS that builds one of its rows for a dealer;
- every URL of a scoped admin is walked: object URLs with another dealer's object, the change
  list, the add page, exports; any other list-level URL needs a check in LIST_VIEW_CHECKS.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.test import Client, RequestFactory
from django.urls import URLPattern
from django.utils import timezone

from apps.accounts.admin.scoping import DealerScopedAdminMixin
from apps.accounts.models import AuthEvent, Customer
from apps.accounts.roles import STAFF_GROUPS
from apps.accounts.services.customers import customer_assign_sales_rep
from tests.catalog.factories import ProductFactory, WarehouseFactory
from tests.conftest import staff_login
from tests.factories import CustomerFactory, DealerUserFactory, StaffUserFactory

pytestmark = [pytest.mark.django_db]

# model label -> why its screens hold no dealer's data (nothing to scope)
NO_DEALER_DATA = {
    "auth.group": "role groups and their permissions: staff configuration",
    "accounts.apikey": "the ERP's system keys; no dealer owns one",
    "integrations.webhookendpoint": "the ERP's webhook receivers; no dealer owns one",
    "catalog.product": "the shared catalog: the same for every dealer",
    "catalog.category": "the shared catalog",
    "catalog.brand": "the shared catalog",
    "inventory.warehouse": "the distributor's warehouses",
    "inventory.stocklevel": "stock per product and warehouse, the same for every dealer",
    "pricing.pricelist": "the LIST and tier price lists, shared by every dealer of a tier",
    "pricing.price": "list and tier prices, shared by every dealer of a tier",
}

JOB_DASHBOARD = {
    "backoffice.jobretry",
    "django_celery_results.taskresult",
    "django_celery_results.groupresult",
    "django_celery_beat.periodictask",
    "django_celery_beat.intervalschedule",
    "django_celery_beat.crontabschedule",
    "django_celery_beat.solarschedule",
    "django_celery_beat.clockedschedule",
}
# screens only super admins open (the whole audit log, people's refresh tokens)
SUPER_ADMIN_ONLY = {
    "auditlog.logentry",
    "token_blacklist.outstandingtoken",
    "token_blacklist.blacklistedtoken",
    # the job dashboard: task results, their retries, periodic tasks and their schedules
    *JOB_DASHBOARD,
}
# screens mixing every dealer's rows: only staff who see every dealer open them
WHOLE_BOOK_ONLY = {"inventory.stockmovement", "inventory.serialnumber", "integrations.batchlog"}

NO_ROLE = "(staff, no role)"
# a sales manager a super admin gave every model permission (not view_all_customers): the
# scope, not the missing model permission, must keep other dealers' rows away on every screen
ALL_MODELS_MANAGER = "(Sales Manager with every model permission)"
ROLES = [*STAFF_GROUPS, NO_ROLE, ALL_MODELS_MANAGER]
# roles that see every dealer by design (accounts.view_all_customers; content managers aim
# banners and collections at any dealer); a sales manager sees the dealers assigned to them
WHOLE_BOOK_ROLES = {"Super Admin", "Finance Manager", "Customer Service", "Content Manager"}
REFUSED = {301, 302, 403, 404}


def label(model) -> str:
    return model._meta.label_lower


# --- one row of each scoped model, for a given dealer ---------------------------------------------


@dataclass
class World:
    mine: Customer
    other: Customer
    product: object = None
    warehouse: object = None
    objects: dict = field(default_factory=dict)  # (label, "mine"|"other") -> object


def _user(world, customer):
    return DealerUserFactory(customer=customer, role="purchasing")


def _auth_event(world, customer):
    return AuthEvent.objects.create(
        kind=AuthEvent.Kind.LOGIN, user=_user(world, customer), ip_address="10.9.8.7"
    )


def _log_entry(world, customer):
    from auditlog.models import LogEntry

    return LogEntry.objects.get_for_object(customer).order_by("pk").first() or (
        LogEntry.objects.log_create(customer, action=LogEntry.Action.UPDATE, changes={})
    )


def _outstanding_token(world, customer):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    return OutstandingToken.objects.create(
        user=_user(world, customer),
        jti=uuid.uuid4().hex,
        token=f"token-of-{customer.code}",
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=1),
    )


def _blacklisted_token(world, customer):
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    return BlacklistedToken.objects.create(token=_outstanding_token(world, customer))


def _order(world, customer):
    from apps.orders.models import Order

    return Order.objects.create(
        number=f"SO-2026-8{customer.pk:05d}",
        customer=customer,
        status="confirmed",
        payment_method="on_account",
        subtotal_net=0,
        vat_total=0,
        grand_total=0,
    )


def _return_request(world, customer):
    from apps.orders.models import Order
    from apps.returns.models import ReturnRequest

    order = Order.objects.create(
        number=f"SO-2026-7{customer.pk:05d}",
        customer=customer,
        status="delivered",
        payment_method="on_account",
        subtotal_net=0,
        vat_total=0,
        grand_total=0,
    )
    return ReturnRequest.objects.create(
        number=f"RMA-2026-9{customer.pk:05d}", customer=customer, order=order
    )


def _ledger_entry(world, customer):
    from apps.finance.models import LedgerEntry

    return LedgerEntry.objects.create(
        customer=customer, kind=LedgerEntry.Kind.ADJUSTMENT, amount=Decimal("5.00"), reason="x"
    )


def _invoice(world, customer):
    from apps.finance.models import Invoice
    from apps.finance.services.invoices import invoice_create_many
    from apps.integrations.api.feeds import INVOICE_RECORD
    from tests.finance.helpers import invoice

    data, errors = INVOICE_RECORD.validate(
        invoice(number=f"ADM2026{customer.pk:09d}", customer_code=customer.code)
    )
    assert not errors
    invoice_create_many(records={0: data})
    return Invoice.objects.get(number=data["number"])


def _payment(world, customer):
    from apps.finance.models import Payment
    from apps.finance.services.payments import payment_record_many
    from apps.integrations.api.feeds import PAYMENT_RECORD
    from tests.finance.helpers import payment

    data, errors = PAYMENT_RECORD.validate(
        payment(reference=f"ADM-{customer.pk}", customer_code=customer.code)
    )
    assert not errors
    payment_record_many(records={0: data})
    return Payment.objects.get(reference=data["reference"])


def _confirmation(world, customer):
    from apps.finance.services.confirmations import confirmation_send

    return confirmation_send(customer=customer, as_of=timezone.localdate())


def _special_price(world, customer):
    from apps.pricing.models import SpecialPrice

    return SpecialPrice.objects.create(
        customer=customer, product=world.product, min_quantity=1, amount=Decimal("9.5")
    )


def _price_change(world, customer):
    from apps.pricing.models import PriceChange

    return PriceChange.objects.create(
        product=world.product,
        customer=customer,
        min_quantity=1,
        new_amount=Decimal("9.5"),
        source=PriceChange.Source.ADMIN,
    )


def _audience(model, values):
    def make(world, customer):
        from apps.campaigns.models import Audience

        row = model().objects.create(audience=Audience.DEALERS, **values(customer))
        row.customers.add(customer)
        return row

    return make


def _campaign_model():
    from apps.campaigns.models import Campaign

    return Campaign


def _banner_model():
    from apps.campaigns.models import Banner

    return Banner


def _collection_model():
    from apps.campaigns.models import Collection

    return Collection


def _notification(world, customer):
    from apps.notifications.models import Notification

    return Notification.objects.create(
        channel=Notification.Channel.EMAIL,
        to=f"owner@{customer.code.lower()}.example.com",
        template="orders/confirmed",
        subject=f"Order of {customer.code}",
        customer=customer,
    )


def _outbox_event(world, customer):
    from apps.core.models import OutboxEvent

    return OutboxEvent.objects.create(
        type="order.created", subject=f"order:{customer.code}", customer=customer
    )


def _webhook_delivery(world, customer):
    from apps.integrations.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        url="https://erp.example.com/hooks", secret="whsec_" + "a" * 32, event_types=["*"]
    )
    return WebhookDelivery.objects.create(
        event=_outbox_event(world, customer),
        endpoint=endpoint,
        webhook_id=f"msg_{uuid.uuid4().hex}",
        event_type="order.created",
        subject=f"order:{customer.code}",
    )


def _batch_log(world, customer):
    from apps.integrations.models import BatchLog

    return BatchLog.objects.create(
        resource="customers",
        received=1,
        failed=1,
        errors=[{"index": 0, "key": customer.code, "errors": {"name": ["Required."]}}],
    )


def _stock_movement(world, customer):
    from apps.inventory.models import StockMovement

    return StockMovement.objects.create(
        product=world.product,
        warehouse=world.warehouse,
        kind=StockMovement.Kind.RESERVATION,
        quantity=1,
        on_hand_before=5,
        on_hand_after=5,
        reserved_before=0,
        reserved_after=1,
        reference=f"order:SO-2026-8{customer.pk:05d}",
    )


def _serial_number(world, customer):
    from apps.inventory.models import SerialNumber

    return SerialNumber.objects.create(
        product=world.product,
        warehouse=world.warehouse,
        serial=f"SN-{customer.code}",
        status=SerialNumber.Status.SOLD,
        reference=f"order:SO-2026-8{customer.pk:05d}",
    )


def _card_payment(world, customer):
    from apps.finance.models import CardPayment

    return CardPayment.objects.create(
        customer=customer,
        provider="paynet",
        reference=f"CP{customer.pk:018d}",
        amount=Decimal("10.00"),
        status=CardPayment.Status.SUCCEEDED,
        xact_id=f"9{customer.pk}",
    )


# model label -> builds one row of that model belonging to (or naming) the given dealer
def _quote(world, customer):
    from apps.quotes.models import Quote, QuoteLine

    quote = Quote.objects.create(number=f"QT-2026-7{customer.pk:05d}", customer=customer)
    product = ProductFactory()
    QuoteLine.objects.create(
        quote=quote, product=product, sku=product.sku, name=product.name, quantity=5, vat_rate=20
    )
    return quote


def _job_dashboard_makers() -> dict:
    """The job dashboard's rows (no dealer's: super admins see them all), one new per call."""
    from django_celery_beat import models as beat
    from django_celery_results.models import GroupResult, TaskResult

    from apps.backoffice.models import JobRetry

    def n() -> int:
        return uuid.uuid4().int % 10**6

    def interval(world, customer):
        return beat.IntervalSchedule.objects.create(every=n() + 1, period="seconds")

    return {
        "backoffice.jobretry": lambda world, customer: JobRetry.objects.create(
            task_id=uuid.uuid4().hex, task_name="core.ping", new_task_id=uuid.uuid4().hex
        ),
        "django_celery_results.taskresult": lambda world, customer: TaskResult.objects.create(
            task_id=uuid.uuid4().hex, task_name="core.ping", status="FAILURE"
        ),
        "django_celery_results.groupresult": lambda world, customer: GroupResult.objects.create(
            group_id=uuid.uuid4().hex
        ),
        "django_celery_beat.periodictask": lambda world, customer: beat.PeriodicTask.objects.create(
            name=f"job-{n()}", task="core.ping", interval=interval(world, customer)
        ),
        "django_celery_beat.intervalschedule": interval,
        "django_celery_beat.crontabschedule": lambda world, customer: (
            beat.CrontabSchedule.objects.create(minute=str(n() % 60), hour=str(n() % 24))
        ),
        "django_celery_beat.solarschedule": lambda world, customer: (
            beat.SolarSchedule.objects.create(
                event="sunrise", latitude=n() % 80, longitude=n() % 170
            )
        ),
        "django_celery_beat.clockedschedule": lambda world, customer: (
            beat.ClockedSchedule.objects.create(clocked_time=timezone.now())
        ),
    }


OBJECT_MAKERS = {
    "accounts.customer": lambda world, customer: customer,
    "accounts.user": _user,
    "accounts.authevent": _auth_event,
    "auditlog.logentry": _log_entry,
    "token_blacklist.outstandingtoken": _outstanding_token,
    "token_blacklist.blacklistedtoken": _blacklisted_token,
    **_job_dashboard_makers(),
    "orders.order": _order,
    "finance.ledgerentry": _ledger_entry,
    "finance.invoice": _invoice,
    "finance.payment": _payment,
    "finance.balanceconfirmation": _confirmation,
    "finance.cardpayment": _card_payment,
    "returns.returnrequest": _return_request,
    "quotes.quote": _quote,
    "pricing.specialprice": _special_price,
    "pricing.pricechange": _price_change,
    "campaigns.campaign": _audience(
        _campaign_model,
        values=lambda c: {
            "name": f"For {c.code}",
            "discount_type": "percentage",
            "discount_value": Decimal("5"),
        },
    ),
    "campaigns.banner": _audience(
        _banner_model, values=lambda c: {"title": f"For {c.code}", "image": "banners/x.png"}
    ),
    "campaigns.collection": _audience(
        _collection_model, values=lambda c: {"name": f"For {c.code}", "slug": f"for-{c.pk}"}
    ),
    "notifications.notification": _notification,
    "core.outboxevent": _outbox_event,
    "integrations.webhookdelivery": _webhook_delivery,
    "integrations.batchlog": _batch_log,
    "inventory.stockmovement": _stock_movement,
    "inventory.serialnumber": _serial_number,
}


def scoped_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if label(model) not in NO_DEALER_DATA
    ]


# --- the nets -------------------------------------------------------------------------------------


def test_every_admin_is_dealer_scoped_or_declared_free_of_dealer_data():
    offenders = [
        f"{label(model)} ({type(model_admin).__name__})"
        for model, model_admin in scoped_admins()
        if not isinstance(model_admin, DealerScopedAdminMixin)
    ]
    assert offenders == [], (
        "put DealerScopedAdminMixin (apps/accounts/admin/scoping.py) first in these admins' "
        "bases and declare dealer_scope, or list the model in NO_DEALER_DATA with the reason"
    )


def test_every_scoped_admin_has_a_maker_for_another_dealers_row():
    missing = [label(m) for m, _a in scoped_admins() if label(m) not in OBJECT_MAKERS]
    assert missing == [], "add a maker to OBJECT_MAKERS so the walker reaches these screens"


def test_the_declarations_name_registered_admins_only():
    registered = {label(model) for model in admin.site._registry}
    stale = (set(NO_DEALER_DATA) | set(OBJECT_MAKERS)) - registered
    assert stale == set(), "no longer registered: drop them from the lists"
    assert not set(NO_DEALER_DATA) & set(OBJECT_MAKERS)


# --- the walk -------------------------------------------------------------------------------------


def admin_urls(model_admin) -> list[tuple[str, str]]:
    """``(url name or "", route)`` of every URL of the admin (custom ones included)."""
    return [
        (pattern.name or "", str(pattern.pattern))
        for pattern in model_admin.get_urls()
        if isinstance(pattern, URLPattern)
    ]


def is_object_route(route: str) -> bool:
    return "<path:object_id>" in route or "<id>" in route


def object_url(model, route: str, obj) -> str:
    path = route.replace("<path:object_id>", str(obj.pk)).replace("<id>", str(obj.pk))
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{path}"


def list_url(model, route: str) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{route}"


def forms_in(response) -> list:
    """Every form a page renders: the admin form, a custom view's form, inline forms."""
    context = response.context or {}
    found = []
    adminform = context.get("adminform")
    if adminform is not None:
        found.append(adminform.form)
    if context.get("form") is not None and hasattr(context["form"], "fields"):
        found.append(context["form"])
    for inline in context.get("inline_admin_formsets") or []:
        found.extend(inline.formset.forms)
        found.append(inline.formset.empty_form)
    return found


def offered_choices_outside(response, world) -> list[str]:
    """Fields of the page's forms that offer (so accept) another dealer's rows."""
    bad = []
    for form in forms_in(response):
        model = getattr(getattr(form, "_meta", None), "model", None)
        row_key = model._meta.pk.name if model is not None else None
        for name, form_field in form.fields.items():
            if name == row_key:
                continue  # an inline row's own key: the formset matches it to its rows only
            queryset = getattr(form_field, "queryset", None)
            if not isinstance(queryset, QuerySet):
                continue
            other = world.objects.get((label(queryset.model), "other"))
            if other is not None and queryset.filter(pk=other.pk).exists():
                bad.append(f"{type(form).__name__}.{name} offers {label(queryset.model)}")
    return bad


def _check_preview_refuses_another_dealer(client, world, model, route):
    response = client.get(
        list_url(model, route),
        {"customer": world.other.code, "sku": world.product.sku, "quantity": "1"},
    )
    if response.status_code in REFUSED:
        return None
    if response.context["explanation"] is not None:
        return "the price preview explains another dealer's price"
    return None


def _check_adjustment_refuses_another_dealer(client, world, model, route):
    from apps.finance.models import LedgerEntry

    before = LedgerEntry.objects.filter(customer=world.other).count()
    response = client.post(
        list_url(model, route),
        {"customer": str(world.other.pk), "amount": "100.00", "reason": "hijack"},
    )
    if LedgerEntry.objects.filter(customer=world.other).count() != before:
        return "an adjustment was posted to another dealer's ledger"
    if response.status_code == 200 and not offered_choices_outside(response, world):
        assert "customer" in response.context["form"].errors
    return None


def _check_aging_hides_another_dealer(client, world, model, route):
    response = client.get(list_url(model, route), {"all": "1"})
    if response.status_code in REFUSED:
        return None
    if world.other.pk in {row["pk"] for row in response.context["rows"]}:
        return "the aging report shows another dealer"
    exported = client.get(list_url(model, route), {"all": "1", "format": "csv"})
    if world.other.code in exported.content.decode("utf-8-sig"):
        return "the aging export holds another dealer"
    return None


# list-level URL name (not changelist/add/export) -> a check returning an offence or None
LIST_VIEW_CHECKS = {
    "finance_ledgerentry_aging": _check_aging_hides_another_dealer,
    "campaigns_campaign_preview": _check_preview_refuses_another_dealer,
    "finance_ledgerentry_adjust": _check_adjustment_refuses_another_dealer,
}


@pytest.fixture
def world(db):
    return build_world()


def build_world() -> World:
    """One row of every scoped screen for a dealer of the walker's and for another dealer."""
    mine, other = CustomerFactory(code="MINE01"), CustomerFactory(code="OTHER1")
    w = World(mine=mine, other=other)
    w.product = ProductFactory()
    w.warehouse = WarehouseFactory()
    for model_label, make in OBJECT_MAKERS.items():
        w.objects[(model_label, "mine")] = make(w, mine)
        w.objects[(model_label, "other")] = make(w, other)
    w.staff_account = StaffUserFactory(groups=["Finance Manager"])
    return w


def client_for(role: str, world) -> Client:
    from django.contrib.auth.models import Permission

    if role == ALL_MODELS_MANAGER:
        user = StaffUserFactory(groups=["Sales Manager"])
        user.user_permissions.set(Permission.objects.exclude(codename="view_all_customers"))
    else:
        user = StaffUserFactory(groups=[] if role == NO_ROLE else [role])
    if role in ("Sales Manager", ALL_MODELS_MANAGER):
        customer_assign_sales_rep(customer=world.mine, rep=user, by=None)
    client = staff_login(Client(), user)
    client.user = user
    return client


def export_queryset(model_admin, user):
    request = RequestFactory().get("/")
    request.user = user
    return model_admin.get_export_queryset(request)


def walk_admin(client, role, model, model_admin, world) -> list[str]:
    offences = []
    model_label = label(model)
    other = world.objects[(model_label, "other")]
    bound = role not in WHOLE_BOOK_ROLES  # sees the dealers assigned to them only
    if model_label in SUPER_ADMIN_ONLY:
        refuse_all = role != "Super Admin"
    elif model_label in WHOLE_BOOK_ONLY:
        refuse_all = bound
    else:
        refuse_all = False
    if not (bound or refuse_all):
        return []  # the role sees every dealer's rows here by design

    def note(url, what):
        offences.append(f"{role} · {url}: {what}")

    for name, route in admin_urls(model_admin):
        if is_object_route(route):
            url = object_url(model, route, other)
            for method in ("get", "post"):
                if method == "post" and not name.endswith(("_change", "_delete")):
                    continue
                response = getattr(client, method)(url, {"post": "yes"} if method == "post" else {})
                if response.status_code not in REFUSED:
                    note(url, f"{method.upper()} answered {response.status_code}")
            continue
        url = list_url(model, route)
        if name.endswith("_changelist"):
            response = client.get(url)
            if refuse_all and response.status_code not in REFUSED:
                note(url, f"answered {response.status_code}")
            elif (
                bound
                and response.status_code == 200
                and response.context["cl"].queryset.filter(pk=other.pk).exists()
            ):
                note(url, "lists another dealer's row")
        elif name.endswith("_add"):
            response = client.get(url)
            if refuse_all and response.status_code not in REFUSED:
                note(url, f"answered {response.status_code}")
            elif bound and response.status_code == 200:
                for bad in offered_choices_outside(response, world):
                    note(url, bad)
        elif name.endswith("_export"):
            response = client.get(url)
            if refuse_all and response.status_code not in REFUSED:
                note(url, f"answered {response.status_code}")
            elif (
                bound
                and response.status_code == 200
                and export_queryset(model_admin, client.user).filter(pk=other.pk).exists()
            ):
                note(url, "exports another dealer's row")
        elif refuse_all:
            response = client.get(url)
            if response.status_code not in REFUSED:
                note(url, f"answered {response.status_code}")
        elif model_label in SUPER_ADMIN_ONLY | WHOLE_BOOK_ONLY:
            continue  # the screen opens only to staff who see every row anyway
        elif name in LIST_VIEW_CHECKS:
            if bound:
                offence = LIST_VIEW_CHECKS[name](client, world, model, route)
                if offence:
                    note(url, offence)
        else:
            note(url, f"no check for the list-level view {name or route!r}: add LIST_VIEW_CHECKS")
    return offences


def walk_autocomplete(client, role, world) -> list[str]:
    """Autocomplete answers come from the target admin's queryset: scoped as well."""
    if role in WHOLE_BOOK_ROLES:
        return []
    offences = []
    request = RequestFactory().get("/")
    request.user = client.user
    for model, model_admin in admin.site._registry.items():
        for field_name in model_admin.get_autocomplete_fields(request):
            target = model._meta.get_field(field_name).related_model
            other = world.objects.get((label(target), "other"))
            if other is None:
                continue
            response = client.get(
                "/admin/autocomplete/",
                {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field_name,
                    "term": "",
                },
            )
            if response.status_code == 200:
                ids = {row["id"] for row in response.json()["results"]}
                if str(other.pk) in ids:
                    note = f"{label(model)}.{field_name} suggests another dealer's row"
                    offences.append(f"{role} · autocomplete: {note}")
    return offences


def test_no_staff_role_reaches_another_dealers_rows_on_any_admin_url(world):
    offences = []
    survivors = {key: obj for key, obj in world.objects.items() if key[1] == "other"}
    for role in ROLES:
        client = client_for(role, world)
        for model, model_admin in scoped_admins():
            offences += walk_admin(client, role, model, model_admin, world)
        offences += walk_autocomplete(client, role, world)
        # a staff account: only super admins see or manage it
        if role != "Super Admin":
            url = f"/admin/accounts/user/{world.staff_account.pk}/change/"
            if client.get(url).status_code not in REFUSED:
                offences.append(f"{role} · {url}: a staff account is shown")
    assert offences == [], "\n".join(offences)
    for (model_label, _who), obj in survivors.items():
        assert type(obj)._base_manager.filter(pk=obj.pk).exists(), f"{model_label} was deleted"


def test_the_walked_object_urls_are_real_pages(world):
    """The refusals above are the scope's, not broken URLs: a superuser opens every other-dealer
    object's change, history and audit log page, and a sales manager their own dealer's."""
    superuser = staff_login(Client(), StaffUserFactory(is_superuser=True))
    manager = client_for("Sales Manager", world)
    for model, model_admin in scoped_admins():
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        pages = {f"{info}_change", f"{info}_history", f"{info}_auditlog"}
        for name, route in admin_urls(model_admin):
            if name not in pages:
                continue
            other = world.objects[(label(model), "other")]
            url = object_url(model, route, other)
            assert superuser.get(url).status_code == 200, url
            if manager.user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"):
                if label(model) in SUPER_ADMIN_ONLY | WHOLE_BOOK_ONLY:
                    continue
                mine = object_url(model, route, world.objects[(label(model), "mine")])
                assert manager.get(mine).status_code == 200, mine


def test_a_plain_staff_member_without_a_role_opens_no_screen(world):
    client = client_for(NO_ROLE, world)
    assert client.get("/admin/").status_code == 200
    for model in admin.site._registry:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 403, url


def test_every_role_of_the_walk_exists_as_a_group():
    assert set(STAFF_GROUPS) == set(
        Group.objects.filter(name__in=ROLES).values_list("name", flat=True)
    )
