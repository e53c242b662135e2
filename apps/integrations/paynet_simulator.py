"""A loopback simulator of the Paynet payment gateway (Turkish card POS with 3-D Secure).

It speaks the shape of Paynet's published API, enough for our integration to run end to end
without the real gateway:

* ``POST /v2/transaction/tds_initial`` opens a payment session and answers the URL of the hosted
  card page (or of the 3-D Secure page when the card came in the request);
* the hosted pages ``/sim/card/<session_id>`` and ``/sim/3ds/<session_id>`` take the card and
  the 3-D password (``a`` succeeds), then auto-post ``session_id`` and ``token_id`` to the
  shop's ``return_url``;
* ``POST /v2/transaction/tds_charge`` charges an authenticated session (once: a repeat answers
  the first result with code 100), ``POST /v1/transaction/check`` looks a charge up, and
  ``POST /v1/transaction/reversed_request`` refunds it (a same-day refund must be whole).

Any Luhn-valid card succeeds except the decline list (``DECLINES``). API calls need the header
``Authorization: Basic <secret_key>`` (the raw key). Everything lives in memory and goes with the
process; card numbers and CVCs are never stored (only the masked number) nor logged.

The demo runs it with ``manage.py paynet_simulator``; the tests start it as a process of their
own (tests/paynet.py) with ``--test-controls``, which adds the ``/_sim/`` endpoints: reset, queue
faults (a timeout after the commit, an HTTP 500, a slow answer), run the card and 3-D steps
without a browser, list sessions and transactions, and age a transaction by days.
"""

from __future__ import annotations

import hmac
import html
import json
import re
import secrets
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

OK, FAILED, DUPLICATE, UNAUTHORIZED, NO_DATA = 0, 1, 5, 7, 12
NO_SESSION, TDS_FAILED, USED_SESSION, WRONG_CARD, OLD_SUCCESS = 13, 16, 17, 18, 100
SUCCESS = "Başarılı"
OLD_SUCCESS_MESSAGE = "Daha önce başarılı"
TDS_PASSWORD = "a"  # noqa: S105 (the simulator's 3-D Secure password, shown on the page)

# card number -> (bank_error_code, bank_error_message, bank_error_short_desc)
DECLINES = {
    "4000000000000002": ("05", "Do not honour", "İşlem onaylanmadı"),
    "4000000000009995": ("51", "Insufficient funds", "Yetersiz bakiye"),
    "4000000000000069": ("54", "Expired card", "Kartın süresi dolmuş"),
}
ENDPOINTS = {
    "/v2/transaction/tds_initial": "tds_initial",
    "/v2/transaction/tds_charge": "tds_charge",
    "/v1/transaction/check": "check",
    "/v1/transaction/reversed_request": "reversed_request",
}
FAULT_MODES = ("timeout_after_commit", "error_500", "slow")
DEFAULT_FAULT_DELAY = 5.0
AMOUNT = re.compile(r"[0-9]+(?:,[0-9]{1,2})?")
PAGE = re.compile(r"/sim/(card|3ds)/([^/]+)")
AUTHENTICATE = re.compile(r"/_sim/sessions/([^/]+)/authenticate")
AGE = re.compile(r"/_sim/transactions/([^/]+)/age")
MAX_BODY = 1024 * 1024
CENT = Decimal("0.01")
USED = {
    "authenticated": "has already been authenticated",
    "tds_failed": "has already been through 3-D Secure",
    "charged": "has already been charged",
    "declined": "has already been declined",
}


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict:
        return {
            "type": "error",
            "message": self.message,
            "code": self.code,
            "result_code": self.code,
        }


class PageError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Card:
    masked: str
    holder: str
    decline: tuple[str, str, str] | None


@dataclass
class Transaction:
    xact_id: str | None  # None for a decline
    reference_no: str
    amount: Decimal
    is_succeed: bool
    xact_date: datetime
    card_no_masked: str
    reversed: Decimal = Decimal(0)
    bank_error_message: str = ""
    bank_error_code: str = ""


@dataclass
class Session:
    session_id: str
    token_id: str
    reference_no: str
    amount: Decimal
    return_url: str
    description: str
    instalment: int
    status: str = "created"  # authenticated, tds_failed, charged, declined
    card: Card | None = None
    charge_body: dict = field(default_factory=dict)


@dataclass
class Fault:
    mode: str
    delay: float


def _log(line: str) -> None:
    sys.stderr.write(f"paynet-simulator: {line}\n")
    sys.stderr.flush()


# Paynet's clock: its times and its "same day" (a same-day reversal is for the full amount)
# are Istanbul's, whatever the machine's time zone
PAYNET_TIME_ZONE = ZoneInfo("Europe/Istanbul")


def _now() -> datetime:
    return datetime.now(PAYNET_TIME_ZONE)


def _tl(amount: Decimal) -> float:
    return float(amount.quantize(CENT))


def _text(value) -> str:
    return (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    )


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def read_card(number, month, year, cvc, holder) -> Card:
    """The card from raw fields, or ValueError (whose message never holds the number)."""
    digits = re.sub(r"\s+", "", _text(number))
    if not re.fullmatch(r"[0-9]{12,19}", digits) or not _luhn(digits):
        raise ValueError("The card number is not valid.")
    month_text, year_text = _text(month), _text(year)
    if not re.fullmatch(r"[0-9]{1,2}", month_text) or not 1 <= int(month_text) <= 12:
        raise ValueError("The expiry month is not valid.")
    if not re.fullmatch(r"[0-9]{2}|[0-9]{4}", year_text):
        raise ValueError("The expiry year is not valid.")
    if not re.fullmatch(r"[0-9]{3,4}", _text(cvc)):
        raise ValueError("The CVC is not valid.")
    masked = digits[:6] + "******" + digits[-4:]
    return Card(masked=masked, holder=_text(holder)[:64], decline=DECLINES.get(digits))


class State:
    """Sessions, transactions and queued faults; every method takes the lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sessions: dict[str, Session] = {}
        self.transactions: list[Transaction] = []
        self.faults: dict[str, deque[Fault]] = {}
        self.next_xact_id = 1000001  # not reset by reset(): ids stay unique per process

    # -- API --

    def tds_initial(self, body: dict, base: str) -> dict:
        amount_text = body.get("amount")
        if not isinstance(amount_text, str) or not AMOUNT.fullmatch(amount_text):
            raise ApiError(400, FAILED, "amount: expected a string like 1234,56")
        amount = Decimal(amount_text.replace(",", "."))
        if amount <= 0:
            raise ApiError(400, FAILED, "amount: must be greater than zero")
        reference_no = body.get("reference_no")
        if not isinstance(reference_no, str) or not 1 <= len(reference_no) <= 64:
            raise ApiError(400, FAILED, "reference_no: required, 1 to 64 characters")
        return_url = body.get("return_url")
        parts = urlsplit(return_url) if isinstance(return_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApiError(400, FAILED, "return_url: required, an http or https URL")
        if not _text(body.get("domain")):
            raise ApiError(400, FAILED, "domain: required")
        instalment = body.get("instalment")
        instalment = 0 if instalment is None else instalment
        if type(instalment) is not int or not 0 <= instalment <= 12:
            raise ApiError(400, FAILED, "instalment: an integer from 0 to 12")
        for name in ("agent_id", "description"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise ApiError(400, FAILED, f"{name}: must be a string")
        card = None
        if body.get("pan") not in (None, ""):
            try:
                card = read_card(
                    *(body.get(n) for n in ("pan", "month", "year", "cvc", "card_holder"))
                )
            except ValueError as exc:
                raise ApiError(400, WRONG_CARD, str(exc)) from None
        with self.lock:
            if any(s.reference_no == reference_no for s in self.sessions.values()):
                raise ApiError(400, DUPLICATE, "reference_no: already used")
            session = Session(
                session_id=uuid.uuid4().hex,
                token_id=uuid.uuid4().hex,
                reference_no=reference_no,
                amount=amount,
                return_url=return_url,
                description=body.get("description") or "",
                instalment=instalment,
                card=card,
            )
            self.sessions[session.session_id] = session
        post_url = f"{base}/sim/{'3ds' if card else 'card'}/{session.session_id}"
        return {
            "code": OK,
            "message": SUCCESS,
            "session_id": session.session_id,
            "token_id": session.token_id,
            "post_url": post_url,
            "html_content": _redirect_page(post_url),
        }

    def tds_charge(self, body: dict) -> dict:
        session_id, token_id = body.get("session_id"), body.get("token_id")
        with self.lock:
            session = self.sessions.get(session_id) if isinstance(session_id, str) else None
            if session is None or not isinstance(token_id, str):
                raise ApiError(400, NO_SESSION, "Session not found")
            if not hmac.compare_digest(token_id.encode(), session.token_id.encode()):
                raise ApiError(400, NO_SESSION, "Session not found")
            if session.status == "created":
                raise ApiError(400, NO_SESSION, "3-D Secure not completed")
            if session.status == "tds_failed":
                raise ApiError(400, TDS_FAILED, "3-D Secure authentication failed")
            if session.status == "charged":
                return {**session.charge_body, "code": OLD_SUCCESS, "message": OLD_SUCCESS_MESSAGE}
            if session.status == "declined":
                raise ApiError(400, USED_SESSION, "Session already used")
            card, now = session.card, _now()
            if card.decline:
                bank_code, bank_message, short_desc = card.decline
                self.transactions.append(
                    Transaction(
                        None,
                        session.reference_no,
                        session.amount,
                        False,
                        now,
                        card.masked,
                        bank_error_message=bank_message,
                        bank_error_code=bank_code,
                    )
                )
                session.status = "declined"
                return {
                    "code": FAILED,
                    "is_succeed": False,
                    "message": short_desc,
                    "xact_id": None,
                    "reference_no": session.reference_no,
                    "amount": _tl(session.amount),
                    "bank_error_code": bank_code,
                    "bank_error_message": bank_message,
                    "bank_error_short_desc": short_desc,
                }
            xact_id = str(self.next_xact_id)
            self.next_xact_id += 1
            self.transactions.append(
                Transaction(xact_id, session.reference_no, session.amount, True, now, card.masked)
            )
            session.status = "charged"
            session.charge_body = {
                "code": OK,
                "message": SUCCESS,
                "is_succeed": True,
                "xact_id": xact_id,
                "xact_date": now.isoformat(timespec="seconds"),
                "amount": _tl(session.amount),
                "net_amount": _tl(session.amount),
                "reference_no": session.reference_no,
                "card_no_masked": card.masked,
                "card_holder": card.holder,
                "instalment": session.instalment,
                "authorization_code": f"{secrets.randbelow(10**6):06d}",
                "order_id": uuid.uuid4().hex[:20],
                "bank_id": "AKBANK",
            }
            return session.charge_body

    def check(self, body: dict) -> dict:
        xact_id, reference_no = _text(body.get("xact_id")), _text(body.get("reference_no"))
        if not xact_id and not reference_no:
            raise ApiError(400, FAILED, "xact_id or reference_no is required")
        with self.lock:
            if xact_id:
                found = [t for t in self.transactions if t.xact_id == xact_id]
            else:
                found = [t for t in self.transactions if t.reference_no == reference_no]
            if not found:
                raise ApiError(400, NO_DATA, "No transaction found")
            xact = found[-1]
            answer = {
                "code": OK,
                "message": SUCCESS,
                "is_succeed": xact.is_succeed,
                "xact_id": xact.xact_id,
                "xact_date": xact.xact_date.isoformat(timespec="seconds"),
                "reference_no": xact.reference_no,
                "amount": _tl(xact.amount),
                "reversed_amount": _tl(xact.reversed),
                "is_reversed": xact.is_succeed and xact.reversed >= xact.amount,
                "card_no_masked": xact.card_no_masked,
            }
            if not xact.is_succeed:
                answer["bank_error_code"] = xact.bank_error_code
                answer["bank_error_message"] = xact.bank_error_message
            return answer

    def reversed_request(self, body: dict) -> dict:
        xact_id, kurus = _text(body.get("xact_id")), body.get("amount")
        if kurus is not None and (isinstance(kurus, bool) or not isinstance(kurus, int)):
            raise ApiError(400, FAILED, "amount: an integer in kuruş")
        with self.lock:
            xact = next((t for t in self.transactions if xact_id and t.xact_id == xact_id), None)
            if xact is None:
                raise ApiError(400, NO_DATA, "No transaction found")
            remaining = xact.amount - xact.reversed
            if remaining <= 0:
                raise ApiError(400, FAILED, "Transaction already fully reversed")
            amount = remaining if kurus is None else Decimal(kurus) / 100
            if amount <= 0 or amount > remaining:
                raise ApiError(400, FAILED, f"amount: 1 to {int(remaining * 100)} kuruş")
            if amount != remaining and xact.xact_date.date() == _now().date():
                raise ApiError(400, FAILED, "Same-day reversal must be for the full amount")
            xact.reversed += amount
            return {
                "code": OK,
                "message": SUCCESS,
                "is_succeed": True,
                "xact_id": xact.xact_id,
                "amount": _tl(amount),
                "reversed_amount": _tl(xact.reversed),
            }

    # -- hosted pages and the steps they share with the test controls --

    def _open_session(self, session_id: str, *, need_card: bool = False) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            raise PageError(404, "This payment session does not exist.")
        if session.status != "created":
            raise PageError(409, f"This payment session {USED[session.status]}.")
        if need_card and session.card is None:
            raise PageError(409, "The card details have not been entered yet.")
        return session

    def card_page(self, session_id: str) -> str:
        with self.lock:
            return _card_page(self._open_session(session_id))

    def card_submit(self, session_id: str, form: dict) -> tuple[int, str]:
        with self.lock:
            session = self._open_session(session_id)
            try:
                session.card = read_card(*(form.get(n, "") for n in CARD_FIELDS))
            except ValueError as exc:
                return 400, _card_page(session, form=form, error=str(exc))
            return 200, _tds_page(session)

    def tds_page(self, session_id: str) -> str:
        with self.lock:
            return _tds_page(self._open_session(session_id, need_card=True))

    def tds_submit(self, session_id: str, password: str) -> str:
        with self.lock:
            session = self._open_session(session_id, need_card=True)
            session.status = "authenticated" if password == TDS_PASSWORD else "tds_failed"
            return _return_page(session)

    def authenticate(self, session_id: str, body: dict) -> dict:
        with self.lock:
            try:
                session = self._open_session(session_id)
            except PageError as exc:
                code = NO_SESSION if exc.status == 404 else USED_SESSION
                raise ApiError(exc.status, code, exc.message) from None
            try:
                session.card = read_card(*(body.get(n, "") for n in CARD_FIELDS))
            except ValueError as exc:
                raise ApiError(400, WRONG_CARD, str(exc)) from None
            password = body.get("password")
            session.status = "authenticated" if password == TDS_PASSWORD else "tds_failed"
            return {
                "return_url": session.return_url,
                "fields": {"session_id": session.session_id, "token_id": session.token_id},
                "status": session.status,
            }

    # -- test controls --

    def reset(self) -> None:
        with self.lock:
            self.sessions.clear()
            self.transactions.clear()
            self.faults.clear()

    def add_fault(self, body: dict) -> None:
        endpoint, mode, count = body.get("endpoint"), body.get("mode"), body.get("count", 1)
        delay = body.get("delay")
        if endpoint not in ENDPOINTS.values():
            raise ApiError(400, FAILED, f"endpoint: one of {', '.join(ENDPOINTS.values())}")
        if mode not in FAULT_MODES:
            raise ApiError(400, FAILED, f"mode: one of {', '.join(FAULT_MODES)}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ApiError(400, FAILED, "count: a positive integer")
        if delay is not None and (not isinstance(delay, int | float) or delay < 0):
            raise ApiError(400, FAILED, "delay: seconds, zero or more")
        fault = Fault(mode, DEFAULT_FAULT_DELAY if delay is None else float(delay))
        with self.lock:
            self.faults.setdefault(endpoint, deque()).extend([fault] * count)

    def take_fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            queue = self.faults.get(endpoint)
            return queue.popleft() if queue else None

    def list_transactions(self) -> dict:
        with self.lock:
            rows = [
                {
                    "xact_id": t.xact_id,
                    "reference_no": t.reference_no,
                    "amount": _tl(t.amount),
                    "is_succeed": t.is_succeed,
                    "reversed_amount": _tl(t.reversed),
                    "card_no_masked": t.card_no_masked,
                    "xact_date": t.xact_date.isoformat(timespec="seconds"),
                }
                for t in self.transactions
            ]
        return {"transactions": rows}

    def list_sessions(self) -> list[dict]:
        with self.lock:
            return [
                {
                    "session_id": s.session_id,
                    "reference_no": s.reference_no,
                    "amount": _tl(s.amount),
                    "status": s.status,
                }
                for s in self.sessions.values()
            ]

    def age(self, xact_id: str, body: dict) -> dict:
        days = body.get("days")
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ApiError(400, FAILED, "days: an integer, zero or more")
        with self.lock:
            xact = next((t for t in self.transactions if t.xact_id == xact_id), None)
            if xact is None:
                raise ApiError(404, NO_DATA, "No transaction found")
            xact.xact_date -= timedelta(days=days)
            return {"xact_id": xact_id, "xact_date": xact.xact_date.isoformat(timespec="seconds")}


CARD_FIELDS = ("card_number", "expiry_month", "expiry_year", "cvc", "card_holder")


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".") + " TL"


def _html(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:28em;"
        "margin:2em auto}label{display:block;margin:.5em 0}.error{color:#b00}"
        ".note{color:#666;font-size:.9em}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _redirect_page(post_url: str) -> str:
    return (
        f'<html><body><form method="get" action="{html.escape(post_url)}">'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        "<script>document.forms[0].submit()</script></body></html>"
    )


def _card_page(session: Session, *, form: dict | None = None, error: str = "") -> str:
    form = form or {}

    def kept(name: str) -> str:  # never the card number nor the CVC
        return html.escape(str(form.get(name, "")))

    sid = html.escape(session.session_id)
    return _html(
        "Paynet payment (simulator)",
        f"<p>Amount: <strong>{html.escape(_money(session.amount))}</strong></p>"
        f"<p>{html.escape(session.description)}</p>"
        + (f'<p class="error">{html.escape(error)}</p>' if error else "")
        + f'<form method="post" action="/sim/card/{sid}">'
        '<label>Card number <input name="card_number" inputmode="numeric" '
        'autocomplete="cc-number" required></label>'
        f'<label>Card holder <input name="card_holder" value="{kept("card_holder")}"></label>'
        '<label>Expiry month <input name="expiry_month" size="2" '
        f'value="{kept("expiry_month")}" required></label>'
        '<label>Expiry year <input name="expiry_year" size="4" '
        f'value="{kept("expiry_year")}" required></label>'
        '<label>CVC <input name="cvc" size="4" autocomplete="cc-csc" required></label>'
        '<button type="submit">Continue</button></form>'
        '<p class="note">Simulator: any Luhn-valid number succeeds; 4000000000000002, '
        "4000000000009995, 4000000000000069 are declined.</p>",
    )


def _tds_page(session: Session) -> str:
    return _html(
        "3-D Secure (simulator)",
        f"<p>Amount: <strong>{html.escape(_money(session.amount))}</strong>, card "
        f"{html.escape(session.card.masked)}</p>"
        f'<form method="post" action="/sim/3ds/{html.escape(session.session_id)}">'
        '<label>Password <input type="password" name="password" autofocus required></label>'
        '<button type="submit">Confirm</button></form>'
        '<p class="note">Simulator: password a succeeds</p>',
    )


def _return_page(session: Session) -> str:
    return (
        "<!doctype html><html><body>"
        f'<form method="post" action="{html.escape(session.return_url)}">'
        f'<input type="hidden" name="session_id" value="{html.escape(session.session_id)}">'
        f'<input type="hidden" name="token_id" value="{html.escape(session.token_id)}">'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        "<script>document.forms[0].submit()</script></body></html>"
    )


class Handler(BaseHTTPRequestHandler):
    server_version = "PaynetSimulator/1.0"
    sys_version = ""
    server: SimulatorServer

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    # one short line per request; never a body, a query string or a header
    def log_request(self, code="-", size="-"):
        path = urlsplit(getattr(self, "path", "") or "").path
        _log(f"{self.command or '-'} {path} {int(code) if str(code).isdigit() else code}")

    def log_error(self, format, *args):
        pass  # send_error answers are logged by log_request already

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        try:
            self._route(path)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug of the simulator: answer 500, log no detail
            _log(f"{self.command} {path} failed: {type(exc).__name__}")
            self._json(500, ApiError(500, FAILED, "Internal error").body())

    def _route(self, path: str) -> None:
        state, method = self.server.state, self.command
        if path == "/_sim/health" and method == "GET":
            return self._json(200, {"ok": True})
        if path in ENDPOINTS:
            if method != "POST":
                return self._json(405, ApiError(405, FAILED, "Method not allowed").body())
            return self._api(ENDPOINTS[path])
        if match := PAGE.fullmatch(path):
            return self._page(match[1], match[2])
        if path.startswith("/_sim/") and self.server.test_controls:
            try:
                return self._control(state, method, path)
            except ApiError as exc:
                return self._json(exc.status, exc.body())
        return self._json(404, ApiError(404, FAILED, "Not found").body())

    def _api(self, endpoint: str) -> None:
        scheme, _, key = self.headers.get("Authorization", "").partition(" ")
        secret = self.server.secret_key.encode()
        if scheme.lower() != "basic" or not hmac.compare_digest(key.strip().encode(), secret):
            return self._json(401, ApiError(401, UNAUTHORIZED, "Unauthorized").body())
        state = self.server.state
        fault = state.take_fault(endpoint)
        if fault and fault.mode == "error_500":
            body = b"<html><body><h1>Internal Server Error</h1></body></html>"
            return self._send(500, body, "text/html; charset=utf-8")
        if fault and fault.mode == "slow":
            time.sleep(fault.delay)
        try:
            body = self._read_json()
            if endpoint == "tds_initial":
                status, answer = 200, state.tds_initial(body, self._base_url())
            else:
                status, answer = 200, getattr(state, endpoint)(body)
        except ApiError as exc:
            status, answer = exc.status, exc.body()
        if fault and fault.mode == "timeout_after_commit":
            time.sleep(fault.delay)
            self.close_connection = True
            _log(f"{self.command} {urlsplit(self.path).path} no answer (fault)")
            return None
        return self._json(status, answer)

    def _page(self, kind: str, session_id: str) -> None:
        state, method = self.server.state, self.command
        try:
            if method == "GET":
                status = 200
                page = state.card_page(session_id) if kind == "card" else state.tds_page(session_id)
            elif method == "POST" and kind == "card":
                status, page = state.card_submit(session_id, self._read_form())
            else:
                status, page = 200, state.tds_submit(session_id, self._read_form().get("password"))
        except PageError as exc:
            title = {404: "Not found", 409: "Session already used"}.get(exc.status, "Error")
            status, page = exc.status, _html(title, f"<p>{html.escape(exc.message)}</p>")
        return self._send(status, page.encode(), "text/html; charset=utf-8")

    def _control(self, state: State, method: str, path: str) -> None:
        if method == "POST" and path == "/_sim/reset":
            state.reset()
            return self._json(200, {"ok": True})
        if method == "POST" and path == "/_sim/faults":
            state.add_fault(self._read_json(allow_empty=True))
            return self._json(200, {"ok": True})
        if method == "POST" and (match := AUTHENTICATE.fullmatch(path)):
            return self._json(200, state.authenticate(match[1], self._read_json(allow_empty=True)))
        if method == "GET" and path == "/_sim/transactions":
            return self._json(200, state.list_transactions())
        if method == "GET" and path == "/_sim/sessions":
            return self._json(200, state.list_sessions())
        if method == "POST" and (match := AGE.fullmatch(path)):
            return self._json(200, state.age(match[1], self._read_json(allow_empty=True)))
        raise ApiError(404, FAILED, "Not found")

    def _base_url(self) -> str:
        host = self.headers.get("Host")
        if not host:
            address, port = self.server.server_address[:2]
            host = f"{address}:{port}"
        return f"http://{host}"

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, FAILED, "Invalid Content-Length") from None
        if not 0 <= length <= MAX_BODY:
            raise ApiError(400, FAILED, "Body too large")
        return self.rfile.read(length) if length else b""

    def _read_json(self, *, allow_empty: bool = False) -> dict:
        raw = self._read_body()
        if not raw.strip() and allow_empty:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise ApiError(400, FAILED, "Body must be JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, FAILED, "Body must be a JSON object")
        return body

    def _read_form(self) -> dict[str, str]:
        try:
            raw = self._read_body().decode("utf-8", errors="replace")
        except ApiError:
            raw = ""
        return {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}

    def _json(self, status: int, payload) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._send(status, body, "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, secret_key: str, test_controls: bool):
        if not secret_key:
            raise ValueError("secret_key must not be empty")
        self.secret_key, self.test_controls, self.state = secret_key, test_controls, State()
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError):
            _log(f"connection error: {type(exc).__name__}")


def make_server(host: str, port: int, *, secret_key: str, test_controls: bool) -> SimulatorServer:
    """A bound, not yet serving simulator (port 0 picks a free port: see server_address)."""
    return SimulatorServer((host, port), secret_key=secret_key, test_controls=test_controls)


def serve(
    host: str,
    port: int,
    *,
    secret_key: str,
    test_controls: bool,
    ready: Callable[[SimulatorServer], None] | None = None,
) -> None:
    """Serve until interrupted; ``ready(server)`` runs once the port is listening."""
    server = make_server(host, port, secret_key=secret_key, test_controls=test_controls)
    try:
        if ready is not None:
            ready(server)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
