"""Demo returns: on the delivered order of each of the first demo dealers, one return in each
state the back office works on (credited, waiting for a decision, approved and waiting for
the goods, rejected), made through the returns services. ``--reset`` removes them."""

from __future__ import annotations

import io

from django.core.files.base import ContentFile
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
from apps.returns.models import ReturnRequest
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


def seed_returns(options) -> list[str]:
    customers = Customer.objects.filter(
        code__regex=DEMO_CODE_RE, status=CustomerStatus.ACTIVE
    ).order_by("code")[:DEALERS]
    made = [number for customer in customers for number in _returns(customer)]
    if not made:
        return []
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
