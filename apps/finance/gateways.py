"""Card payment gateways (POS providers) behind one interface, so a second POS can be added
without touching orders or finance.

Finance owns the flow (``apps.finance.services.card_payments``); a provider only speaks to its
gateway. Providers live in the integrations app (the layer that talks to outside systems),
which registers them at start-up with ``provider_register``; finance asks for them by name with
``provider_get``. The flow every provider fits (3-D Secure with a hosted card page):

1. ``start``: the gateway opens a session for an amount and our unique reference and answers
   the page the dealer's browser goes to (card data is entered there, never on our server);
2. the bank posts the dealer's browser back to our callback with the session's ids
   (``callback_ids`` reads them; the post is unsigned, so it is never trusted);
3. ``charge``: we ask the gateway to complete the session (the answer decides);
4. ``check``: we ask the gateway what it holds for our reference or its transaction id (the
   cross-check after a charge, and the reconciliation of payments left pending);
5. ``refund``: staff give money back through the gateway.

Every call raises ``GatewayUnavailable`` when the gateway cannot be reached or gives no
answer (a timeout, a 5xx), and ``GatewayError`` for an answer that refuses the call.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings


class GatewayError(Exception):
    """The gateway answered and refused the call (``code`` is the gateway's result code)."""

    def __init__(self, message: str, *, code: str = "", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = str(code)
        self.status = status


class GatewayUnavailable(GatewayError):
    """No usable answer: connection refused, timed out, or a server error. The call may or
    may not have taken effect at the gateway."""


@dataclass(frozen=True)
class Started:
    session_id: str
    token_id: str
    redirect_url: str


@dataclass(frozen=True)
class Charged:
    """The outcome of completing a session: ``succeeded`` or declined with the bank's
    ``message``. ``repeated``: the gateway answers an earlier success (the call was made
    before, e.g. its answer was lost to a timeout)."""

    succeeded: bool
    xact_id: str = ""
    amount: Decimal | None = None
    reference: str = ""
    card_masked: str = ""
    message: str = ""
    code: str = ""
    repeated: bool = False
    bank_code: str = ""  # the bank's response code of a decline (ISO 8583: "51")


@dataclass(frozen=True)
class Checked:
    """What the gateway holds for a reference or transaction: nothing (``found`` false), a
    success or a decline, and how much of it was refunded."""

    found: bool
    succeeded: bool = False
    xact_id: str = ""
    amount: Decimal | None = None
    reference: str = ""
    card_masked: str = ""
    refunded: Decimal = Decimal("0.00")
    message: str = ""
    bank_code: str = ""


@dataclass(frozen=True)
class Refunded:
    amount: Decimal
    refunded_total: Decimal | None = None
    raw: Mapping = field(default_factory=dict)


class PaymentProvider(ABC):
    """One POS provider. ``name`` is the path segment of its callback URL
    (``/api/v1/payments/callback/<name>``)."""

    name: str = ""

    @abstractmethod
    def start(
        self, *, reference: str, amount: Decimal, return_url: str, description: str
    ) -> Started: ...

    @abstractmethod
    def callback_ids(self, data: Mapping) -> tuple[str, str]:
        """The session's ids from the bank's post (``("", "")`` when missing)."""

    @abstractmethod
    def charge(self, *, session_id: str, token_id: str) -> Charged: ...

    @abstractmethod
    def check(self, *, reference: str = "", xact_id: str = "") -> Checked: ...

    @abstractmethod
    def refund(self, *, xact_id: str, amount: Decimal | None) -> Refunded:
        """Give back ``amount`` (``None``: all that is left) of a transaction."""

    def same_day_refund_must_be_full(self) -> bool:
        """Whether a refund on the day of the payment must be for the whole amount (banks
        reverse same-day card payments instead of refunding them)."""
        return False


_PROVIDERS: dict[str, Callable[[], PaymentProvider]] = {}


def provider_register(name: str, factory: Callable[[], PaymentProvider]) -> None:
    _PROVIDERS[name] = factory


def provider_names() -> list[str]:
    return sorted(_PROVIDERS)


def provider_get(name: str | None = None) -> PaymentProvider | None:
    """The provider called ``name`` (default: ``CARD_PAYMENT_PROVIDER``), or ``None``."""
    factory = _PROVIDERS.get(name or settings.CARD_PAYMENT_PROVIDER)
    return factory() if factory is not None else None
