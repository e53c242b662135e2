"""Demo returns: on the delivered order of each of the first demo dealers, one return in each
state the back office works on (credited, waiting for a decision, approved and waiting for
the goods, rejected), made through the returns services. ``--reset`` removes them."""

from __future__ import annotations

import io
from datetime import timedelta

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from apps.accounts.models import Customer, CustomerStatus, DealerRole, User
from apps.demo.accounts import (
    DEMO_CUSTOMER_SERVICE_EMAIL,
    DEMO_FINANCE_MANAGER_EMAIL,
    admin_logged,
    demo_staff,
)
from apps.inventory.models import StockMovement
from apps.orders.models import Order, OrderStatus
from apps.returns.models import ReturnRequest, ReturnStatusChange
from apps.returns.services import (
    return_credit,
    return_decide,
    return_receive,
    return_reference,
    return_request,
)
from apps.returns.states import STAFF

DEMO_CODE_RE = r"^DEMO[0-9]{3}$"
DEALERS = 3


def _carton_photo() -> ContentFile:
    """The dealer's photo of a crushed carton, drawn here (no file to ship)."""
    photo = Image.new("RGB", (800, 600), (226, 232, 240))
    draw = ImageDraw.Draw(photo)
    draw.polygon([(170, 180), (630, 150), (650, 470), (150, 500)], fill=(180, 134, 80))
    draw.line([(170, 180), (400, 330), (630, 150)], fill=(120, 85, 45), width=8)  # the dent
    draw.line([(400, 330), (420, 490)], fill=(120, 85, 45), width=6)
    data = io.BytesIO()
    photo.save(data, "JPEG", quality=85)
    return ContentFile(data.getvalue(), name="ezik-koli.jpg")


def _returns(customer: Customer) -> list[str]:
    owner = User.objects.filter(customer=customer, role=DealerRole.OWNER, is_active=True).first()
    order = (
        Order.objects.filter(customer=customer, status=OrderStatus.DELIVERED)
        .order_by("created_at")
        .first()
    )
    if owner is None or order is None or ReturnRequest.objects.filter(customer=customer).exists():
        return []
    first, second = list(order.lines.order_by("id"))[:2]
    made = []
    staff = {"actor": STAFF, "by": demo_staff(DEMO_CUSTOMER_SERVICE_EMAIL)}
    if customer.code.endswith("1"):
        credited = return_request(
            user=owner,
            order_number=order.number,
            lines=[{"sku": first.sku, "quantity": 1, "reason": "damaged"}],
            note="Bir koli ezik geldi",
            photos=[_carton_photo()],
        )
        return_decide(request=credited, status="approved", note="Geri gönderebilirsiniz", **staff)
        return_receive(request=credited, **staff)
        for _step in range(2):  # approved, received: one admin step each
            admin_logged(staff["by"], credited, "status")
        finance = demo_staff(DEMO_FINANCE_MANAGER_EMAIL)  # crediting is finance's step
        return_credit(request=credited, actor=STAFF, by=finance)
        admin_logged(finance, credited, "status")
        made.append(credited.number)
        waiting = return_request(
            user=owner,
            order_number=order.number,
            lines=[{"sku": second.sku, "quantity": 1, "reason": "not_needed"}],
            note="Bir adet fazla sipariş edilmiş",
        )
        made.append(waiting.number)
    elif customer.code.endswith("2"):
        approved = return_request(
            user=owner,
            order_number=order.number,
            lines=[{"sku": first.sku, "quantity": 1, "reason": "wrong_item"}],
        )
        return_decide(request=approved, status="approved", **staff)
        admin_logged(staff["by"], approved, "status")
        made.append(approved.number)
    else:
        rejected = return_request(
            user=owner,
            order_number=order.number,
            lines=[
                {
                    "sku": second.sku,
                    "quantity": 1,
                    "reason": "other",
                    "reason_text": "Renk fotoğraftaki gibi değil",
                }
            ],
        )
        return_decide(
            request=rejected,
            status="rejected",
            note="Renk katalogda belirtildiği gibi",
            **staff,
        )
        admin_logged(staff["by"], rejected, "status")
        made.append(rejected.number)
    return made


# the steps of a demo return: the first some hours after the delivery, the next ones apart
_FIRST_STEP = timedelta(hours=5)
_BETWEEN_STEPS = timedelta(hours=9)


def _at_steps_times(request: ReturnRequest, *, later: timedelta) -> None:
    """The return and its history as if asked after the delivery (``later`` more for a second
    return of the order) and worked on over the next days (each step ``_BETWEEN_STEPS`` after
    the one before, none in the future), not all in the seeding's minute; the back office's
    record of staff's steps moves with them."""
    delivered = request.order.delivered_at or timezone.now() - timedelta(days=2)
    changes = list(request.status_history.order_by("created_at", "id"))
    now = timezone.now()
    times = [
        min(delivered + _FIRST_STEP + later + position * _BETWEEN_STEPS, now)
        for position in range(len(changes))
    ]
    stamps = {"approved": "decided_at", "rejected": "decided_at"}
    stamps |= {"received": "received_at", "credited": "credited_at"}
    fields = {"created_at": times[0], "updated_at": times[-1]}
    for change, moment in zip(changes, times, strict=True):
        change.created_at = moment
        if change.to_status in stamps:
            fields[stamps[change.to_status]] = moment
    ReturnStatusChange.objects.bulk_update(changes, ["created_at"])
    ReturnRequest.objects.filter(pk=request.pk).update(**fields)
    logged = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(ReturnRequest), object_id=str(request.pk)
    ).order_by("id")
    by_staff = [change for change in changes if change.changed_by_id and change.actor == STAFF]
    for entry, change in zip(logged, by_staff, strict=False):
        LogEntry.objects.filter(pk=entry.pk).update(action_time=change.created_at)


def seed_returns(options) -> list[str]:
    customers = Customer.objects.filter(
        code__regex=DEMO_CODE_RE, status=CustomerStatus.ACTIVE
    ).order_by("code")[:DEALERS]
    made = [number for customer in customers for number in _returns(customer)]
    if not made:
        return []
    requests = ReturnRequest.objects.filter(number__in=made).select_related("order")
    earlier: dict[int, int] = {}  # returns of each order seen so far: a second one came later
    for request in requests.order_by("id"):
        before = earlier.get(request.order_id, 0)
        earlier[request.order_id] = before + 1
        _at_steps_times(request, later=timedelta(hours=3 * before))
    return [
        f"returns: {len(made)} returns (credited, requested, approved, rejected): {', '.join(made)}"
    ]


def reset_returns(options) -> None:
    returns = ReturnRequest.objects.filter(customer__code__regex=DEMO_CODE_RE)
    references = [return_reference(n) for n in returns.values_list("number", flat=True)]
    StockMovement.objects.filter(reference__in=references).delete()
    returns.delete()  # lines, photos and history go with them; the finance step (reset after
    # this one) removes their credit notes with the ledgers


STEPS = [("returns", seed_returns, reset_returns)]
