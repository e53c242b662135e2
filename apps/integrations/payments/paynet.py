"""Paynet (paynet.com.tr) 3-D Secure card payments, to its published REST API.

Every call is a JSON ``POST`` to ``PAYNET_BASE_URL`` with ``Authorization: Basic <secret key>``
(the raw ``sck_...`` key). Amounts go out as comma-decimal text (``"1234,56"``) to
``tds_initial``, as kuruş to ``reversed_request``; they come back as numbers. A non-200 answer
is ``{type, message, code, result_code}``: result code 0 ok, 1 failed, 5 duplicate, 7
unauthorized, 12 no data, 13 no session, 16 3-D failed, 17 used session, 18 wrong card, 100 an
earlier success. ``tds_charge`` answering HTTP 200 with ``is_succeed: false`` is a decline.

No card data passes through here: ``tds_initial`` is sent without card fields, so Paynet
answers its hosted card page (``post_url``), where the dealer types the card.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

from apps.finance.gateways import (
    Charged,
    Checked,
    GatewayError,
    GatewayUnavailable,
    PaymentProvider,
    Refunded,
    Started,
)

logger = logging.getLogger(__name__)

OLD_SUCCESS = "100"
_POOLS: dict[str, urllib3.PoolManager] = {}


def _pool(timeout: float) -> urllib3.PoolManager:
    key = f"{timeout}"
    if key not in _POOLS:
        _POOLS[key] = urllib3.PoolManager(
            num_pools=4,
            maxsize=8,
            retries=False,
            timeout=urllib3.Timeout(connect=min(5.0, timeout), read=timeout),
        )
    return _POOLS[key]


def _decimal(value) -> Decimal | None:
    """A gateway amount (a JSON number, or text with a comma or a dot) as 2-place Decimal."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        return None
    return amount.quantize(Decimal("0.01")) if amount.is_finite() else None


def comma_amount(amount: Decimal) -> str:
    """``Decimal("1234.5")`` -> ``"1234,50"``: the amount as ``tds_initial`` wants it."""
    return f"{amount:.2f}".replace(".", ",")


class PaynetProvider(PaymentProvider):
    name = "paynet"

    def __init__(
        self,
        *,
        base_url: str,
        secret_key: str,
        agent_id: str = "",
        domain: str = "",
        timeout: float = 20.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.secret_key = secret_key
        self.agent_id = agent_id
        self.domain = domain
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> PaynetProvider:
        return cls(
            base_url=settings.PAYNET_BASE_URL,
            secret_key=settings.PAYNET_SECRET_KEY,
            agent_id=settings.PAYNET_AGENT_ID,
            domain=settings.PAYNET_DOMAIN
            or urlsplit(settings.PAYMENT_RETURN_BASE_URL).hostname
            or "localhost",
            timeout=settings.PAYNET_TIMEOUT,
        )

    # --- transport ---

    def _post(self, path: str, body: Mapping) -> dict:
        """The JSON answer of a 200; ``GatewayError`` with the result code for a refusal;
        ``GatewayUnavailable`` without a usable answer. Bodies are never logged."""
        try:
            response = _pool(self.timeout).request(
                "POST",
                self.base_url + path,
                body=json.dumps(body).encode(),
                headers={
                    "Authorization": f"Basic {self.secret_key}",
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
            )
        except urllib3.exceptions.HTTPError as exc:
            logger.warning("paynet %s: no answer (%s)", path, type(exc).__name__)
            raise GatewayUnavailable(f"Paynet did not answer ({type(exc).__name__}).") from None
        if response.status >= 500:
            logger.warning("paynet %s: HTTP %s", path, response.status)
            raise GatewayUnavailable(
                f"Paynet answered HTTP {response.status}.", status=response.status
            )
        try:
            data = json.loads(response.data or b"{}")
        except ValueError:
            raise GatewayUnavailable(
                "Paynet's answer is not JSON.", status=response.status
            ) from None
        if not isinstance(data, dict):
            raise GatewayUnavailable("Paynet's answer is not an object.", status=response.status)
        if response.status != 200:
            code = str(data.get("result_code", data.get("code", "")))
            logger.info("paynet %s: HTTP %s result code %s", path, response.status, code)
            raise GatewayError(
                str(data.get("message") or f"Paynet refused the call ({code})."),
                code=code,
                status=response.status,
            )
        return data

    # --- the provider interface ---

    def start(
        self, *, reference: str, amount: Decimal, return_url: str, description: str
    ) -> Started:
        body = {
            "amount": comma_amount(amount),
            "reference_no": reference,
            "return_url": return_url,
            "domain": self.domain,
            "description": description,
            "instalment": 0,
        }
        if self.agent_id:
            body["agent_id"] = self.agent_id
        data = self._post("/v2/transaction/tds_initial", body)
        session_id, token_id = str(data.get("session_id") or ""), str(data.get("token_id") or "")
        post_url = str(data.get("post_url") or "")
        if not (session_id and token_id and post_url):
            raise GatewayError(str(data.get("message") or "Paynet opened no session."))
        return Started(session_id=session_id, token_id=token_id, redirect_url=post_url)

    def callback_ids(self, data: Mapping) -> tuple[str, str]:
        def text(name: str) -> str:
            value = data.get(name, "")
            if isinstance(value, list):  # a QueryDict's lists
                value = value[0] if value else ""
            return value.strip()[:128] if isinstance(value, str) else ""

        return text("session_id"), text("token_id")

    def charge(self, *, session_id: str, token_id: str) -> Charged:
        data = self._post(
            "/v2/transaction/tds_charge", {"session_id": session_id, "token_id": token_id}
        )
        code = str(data.get("code", ""))
        succeeded = data.get("is_succeed") is True
        return Charged(
            succeeded=succeeded,
            xact_id=str(data.get("xact_id") or ""),
            amount=_decimal(data.get("amount")),
            reference=str(data.get("reference_no") or ""),
            card_masked=str(data.get("card_no_masked") or ""),
            message=""
            if succeeded
            else str(data.get("bank_error_message") or data.get("message") or ""),
            code=code,
            repeated=code == OLD_SUCCESS,
            bank_code="" if succeeded else str(data.get("bank_error_code") or ""),
        )

    def check(self, *, reference: str = "", xact_id: str = "") -> Checked:
        body = {"xact_id": xact_id} if xact_id else {"reference_no": reference}
        try:
            data = self._post("/v1/transaction/check", body)
        except GatewayError as exc:
            if exc.code == "12" and not isinstance(exc, GatewayUnavailable):
                return Checked(found=False)
            raise
        succeeded = data.get("is_succeed") is True
        return Checked(
            found=True,
            succeeded=succeeded,
            xact_id=str(data.get("xact_id") or ""),
            amount=_decimal(data.get("amount")),
            reference=str(data.get("reference_no") or ""),
            card_masked=str(data.get("card_no_masked") or ""),
            refunded=_decimal(data.get("reversed_amount")) or Decimal("0.00"),
            message=""
            if succeeded
            else str(data.get("bank_error_message") or data.get("message") or ""),
            bank_code="" if succeeded else str(data.get("bank_error_code") or ""),
        )

    def refund(self, *, xact_id: str, amount: Decimal | None) -> Refunded:
        body: dict = {"xact_id": xact_id}
        if amount is not None:
            body["amount"] = int((amount * 100).to_integral_value())  # kuruş
        data = self._post("/v1/transaction/reversed_request", body)
        if data.get("is_succeed") is False:
            raise GatewayError(str(data.get("message") or "Paynet refused the refund."))
        return Refunded(
            amount=_decimal(data.get("amount")) or (amount or Decimal("0.00")),
            refunded_total=_decimal(data.get("reversed_amount")),
        )

    def same_day_refund_must_be_full(self) -> bool:
        return True
