"""The Paynet simulator over real HTTP, in a process of its own (tests/paynet.py): the API's
answers, the hosted card and 3-D Secure pages, the test controls and the faults. No database."""

from __future__ import annotations

import datetime
import json
import threading
import time
import uuid
from html.parser import HTMLParser

import pytest
import urllib3

from apps.integrations.paynet_simulator import _now as paynet_now
from apps.integrations.paynet_simulator import make_server
from tests.paynet import PaynetSimulatorError

GOOD_CARD = "4355084355084358"
DIRECT_CARD = "5406675406675403"
NOT_LUHN = "4355084355084359"
DECLINED = {
    "4000000000000002": ("05", "Do not honour"),
    "4000000000009995": ("51", "Insufficient funds"),
    "4000000000000069": ("54", "Expired card"),
}
EVERY_CARD = (GOOD_CARD, DIRECT_CARD, NOT_LUHN, *DECLINED)
RETURN_URL = "http://127.0.0.1:9/payments/return?order=42&step=3ds"


@pytest.fixture
def sim(paynet_simulator):
    paynet_simulator.reset()
    return paynet_simulator


def request(sim, path, body=None, *, key=None, raw=None, timeout=10.0):
    """POST to the simulator's API with ``Authorization: Basic <key>`` (the simulator's key
    unless given; ``key=""`` sends no header) -> the urllib3 response."""
    key = sim.secret_key if key is None else key
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Basic {key}"
    data = raw if raw is not None else json.dumps(body or {}).encode()
    return sim.http.request("POST", f"{sim.url}{path}", body=data, headers=headers, timeout=timeout)


def call(sim, path, body=None, **kwargs) -> tuple[int, dict]:
    response = request(sim, path, body, **kwargs)
    return response.status, response.json()


def initial(sim, **fields) -> dict:
    body = {
        "amount": "1234,56",
        "reference_no": f"PAY-{uuid.uuid4().hex[:12]}",
        "return_url": RETURN_URL,
        "domain": "bayi.example.com",
        **fields,
    }
    status, answer = call(sim, "/v2/transaction/tds_initial", body)
    assert status == 200, answer
    return {**answer, "reference_no": body["reference_no"]}


def charge(sim, start: dict) -> tuple[int, dict]:
    fields = {"session_id": start["session_id"], "token_id": start["token_id"]}
    return call(sim, "/v2/transaction/tds_charge", fields)


def charged(sim, card=GOOD_CARD, **fields) -> dict:
    """A new session, authenticated with ``card`` and charged -> the charge's answer."""
    start = initial(sim, **fields)
    sim.authenticate(start["session_id"], card_number=card)
    status, answer = charge(sim, start)
    assert status == 200, answer
    return answer


def assert_error(status, answer, expected_status, code):
    assert (status, answer["type"], answer["code"], answer["result_code"]) == (
        expected_status,
        "error",
        code,
        code,
    ), answer


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"method": attrs.get("method"), "action": attrs.get("action")})
            self.forms[-1]["inputs"] = {}
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"][attrs.get("name")] = attrs


def forms(page: str) -> list[dict]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def page_post(sim, path: str, fields: dict):
    return sim.http.request("POST", f"{sim.url}{path}", fields=fields, encode_multipart=False)


# -- authentication and requests --


@pytest.mark.parametrize("key", ["", "wrong-key", "c2NrX3Rlc3Rfc2ltdWxhdG9y"])
def test_api_calls_without_the_right_key_are_unauthorized(sim, key):
    status, answer = call(sim, "/v1/transaction/check", {"xact_id": "1"}, key=key)
    assert_error(status, answer, 401, 7)
    assert answer["message"] == "Unauthorized"


def test_the_key_goes_raw_after_basic(sim):
    response = sim.http.request(
        "POST",
        f"{sim.url}/v1/transaction/check",
        body=b'{"xact_id": "1"}',
        headers={"Authorization": f"Bearer {sim.secret_key}"},
    )
    assert response.status == 401
    assert call(sim, "/v1/transaction/check", {"xact_id": "1"})[0] == 400  # authorized


def test_a_body_that_is_not_json_is_refused(sim):
    status, answer = call(sim, "/v2/transaction/tds_initial", raw=b"amount=1,00")
    assert_error(status, answer, 400, 1)


def test_unknown_paths_answer_404_json(sim):
    status, answer = call(sim, "/v2/transaction/nothing", {})
    assert_error(status, answer, 404, 1)


# -- tds_initial --


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "12.50"),
        ("amount", "1.234,56"),
        ("amount", "1,234"),
        ("amount", "0"),
        ("amount", "0,00"),
        ("amount", 12.5),
        ("amount", ""),
        ("reference_no", ""),
        ("reference_no", "R" * 65),
        ("return_url", "ftp://shop.example/return"),
        ("return_url", "not a url"),
        ("domain", ""),
        ("instalment", 13),
        ("instalment", "3"),
    ],
)
def test_tds_initial_validates_its_fields(sim, field, value):
    body = {
        "amount": "10,00",
        "reference_no": "PAY-1",
        "return_url": RETURN_URL,
        "domain": "bayi.example.com",
        field: value,
    }
    status, answer = call(sim, "/v2/transaction/tds_initial", body)
    assert_error(status, answer, 400, 1)
    assert field in answer["message"]
    assert sim.sessions() == []


def test_tds_initial_refuses_a_reference_no_used_before(sim):
    first = initial(sim, reference_no="PAY-DUP")
    status, answer = call(
        sim,
        "/v2/transaction/tds_initial",
        {"amount": "5,00", "reference_no": "PAY-DUP", "return_url": RETURN_URL, "domain": "d"},
    )
    assert_error(status, answer, 400, 5)
    assert [s["session_id"] for s in sim.sessions()] == [first["session_id"]]


def test_tds_initial_answers_a_session_and_the_card_page(sim):
    start = initial(sim, amount="7", instalment=3, agent_id="A1", description="Order 42")
    assert start["code"] == 0
    assert start["message"] == "Başarılı"
    assert len(start["session_id"]) == len(start["token_id"]) == 32
    assert start["post_url"] == f"{sim.url}/sim/card/{start['session_id']}"
    (redirect,) = forms(start["html_content"])
    assert (redirect["method"], redirect["action"]) == ("get", start["post_url"])
    assert "document.forms[0].submit()" in start["html_content"]
    assert sim.sessions() == [
        {
            "session_id": start["session_id"],
            "reference_no": start["reference_no"],
            "amount": 7.0,
            "status": "created",
        }
    ]


# -- the hosted pages --


def test_the_hosted_flow_through_the_pages(sim):
    start = initial(sim, description="Order <42> & co")
    session_id = start["session_id"]

    page = sim.http.request("GET", start["post_url"])
    assert page.status == 200
    text = page.data.decode()
    assert "1.234,56 TL" in text
    assert "Order &lt;42&gt; &amp; co" in text
    assert (
        "Simulator: any Luhn-valid number succeeds; 4000000000000002, 4000000000009995, "
        "4000000000000069 are declined." in text
    )
    (card_form,) = forms(text)
    assert (card_form["method"], card_form["action"]) == ("post", f"/sim/card/{session_id}")
    assert set(card_form["inputs"]) == {
        "card_number",
        "card_holder",
        "expiry_month",
        "expiry_year",
        "cvc",
    }

    card = {
        "card_number": "4355 0843 5508 4358",
        "card_holder": "Ayşe Yılmaz",
        "expiry_month": "12",
        "expiry_year": "30",
        "cvc": "123",
    }
    tds = page_post(sim, card_form["action"], card)
    assert tds.status == 200
    assert "Simulator: password a succeeds" in tds.data.decode()
    (tds_form,) = forms(tds.data.decode())
    assert (tds_form["method"], tds_form["action"]) == ("post", f"/sim/3ds/{session_id}")
    assert tds_form["inputs"]["password"]["type"] == "password"
    assert sim.sessions()[0]["status"] == "created"

    back = page_post(sim, tds_form["action"], {"password": "a"})
    assert back.status == 200
    text = back.data.decode()
    (return_form,) = forms(text)
    assert (return_form["method"], return_form["action"]) == ("post", RETURN_URL)
    assert 'action="http://127.0.0.1:9/payments/return?order=42&amp;step=3ds"' in text
    hidden = return_form["inputs"]
    assert {name: attrs["type"] for name, attrs in hidden.items()} == {
        "session_id": "hidden",
        "token_id": "hidden",
    }
    assert hidden["session_id"]["value"] == session_id
    assert hidden["token_id"]["value"] == start["token_id"]
    assert "<script>document.forms[0].submit()</script>" in text
    assert "<noscript>" in text
    assert sim.sessions()[0]["status"] == "authenticated"

    status, answer = charge(sim, start)
    assert status == 200, answer
    assert answer["is_succeed"] is True
    assert answer["card_no_masked"] == "435508******4358"
    assert answer["card_holder"] == "Ayşe Yılmaz"
    assert answer["amount"] == 1234.56
    assert sim.sessions()[0]["status"] == "charged"

    again = sim.http.request("GET", start["post_url"])
    assert again.status == 409
    assert "already been charged" in again.data.decode()


def test_an_invalid_card_re_renders_the_form_with_an_error(sim):
    start = initial(sim)
    path = f"/sim/card/{start['session_id']}"
    good = {"card_number": GOOD_CARD, "expiry_month": "12", "expiry_year": "2030", "cvc": "123"}
    for wrong in (
        {"card_number": NOT_LUHN},
        {"card_number": "4355 08"},
        {"card_number": "4355-0843-5508-4358"},
        {"expiry_month": "13"},
        {"expiry_year": "203"},
        {"cvc": "12"},
    ):
        response = page_post(sim, path, {**good, **wrong, "card_holder": "A B"})
        assert response.status == 400, wrong
        text = response.data.decode()
        assert 'class="error"' in text
        assert forms(text)[0]["action"] == path
        assert NOT_LUHN not in text and GOOD_CARD not in text
    assert sim.sessions()[0]["status"] == "created"


def test_pages_of_an_unknown_session_answer_404(sim):
    for method, kind in (("GET", "card"), ("POST", "card"), ("GET", "3ds"), ("POST", "3ds")):
        response = sim.http.request(method, f"{sim.url}/sim/{kind}/{uuid.uuid4().hex}")
        assert response.status == 404
        assert response.headers["Content-Type"].startswith("text/html")


def test_the_3ds_page_needs_the_card_first(sim):
    start = initial(sim)
    response = sim.http.request("GET", f"{sim.url}/sim/3ds/{start['session_id']}")
    assert response.status == 409


def test_a_card_in_tds_initial_skips_the_card_page(sim):
    start = initial(
        sim, pan=DIRECT_CARD, month="01", year="2031", cvc="321", card_holder="Ali Veli"
    )
    assert start["post_url"] == f"{sim.url}/sim/3ds/{start['session_id']}"
    page = sim.http.request("GET", start["post_url"])
    assert page.status == 200
    assert "540667******5403" in page.data.decode()
    assert page_post(sim, f"/sim/3ds/{start['session_id']}", {"password": "a"}).status == 200
    status, answer = charge(sim, start)
    assert status == 200
    assert (answer["card_no_masked"], answer["card_holder"]) == ("540667******5403", "Ali Veli")


def test_tds_initial_refuses_an_invalid_direct_card(sim):
    status, answer = call(
        sim,
        "/v2/transaction/tds_initial",
        {
            "amount": "1,00",
            "reference_no": "PAY-2",
            "return_url": RETURN_URL,
            "domain": "d",
            "pan": NOT_LUHN,
            "month": "1",
            "year": "2031",
            "cvc": "123",
        },
    )
    assert_error(status, answer, 400, 18)


# -- tds_charge --


def test_charge_succeeds_once_then_answers_code_100_with_the_same_transaction(sim):
    start = initial(sim, instalment=2)
    assert sim.authenticate(start["session_id"]) == {
        "return_url": RETURN_URL,
        "fields": {"session_id": start["session_id"], "token_id": start["token_id"]},
        "status": "authenticated",
    }
    status, first = charge(sim, start)
    assert status == 200
    assert first["code"] == 0
    assert first["message"] == "Başarılı"
    assert first["is_succeed"] is True
    assert first["xact_id"].isdigit()
    assert first["amount"] == first["net_amount"] == 1234.56
    assert first["reference_no"] == start["reference_no"]
    assert first["card_no_masked"] == "435508******4358"
    assert first["instalment"] == 2
    assert len(first["authorization_code"]) == 6 and first["authorization_code"].isdigit()
    assert first["bank_id"] == "AKBANK"
    assert first["xact_date"][:4].isdigit()

    status, second = charge(sim, start)
    assert status == 200
    assert (second["code"], second["message"]) == (100, "Daha önce başarılı")
    assert {k: v for k, v in second.items() if k not in ("code", "message")} == {
        k: v for k, v in first.items() if k not in ("code", "message")
    }
    assert [t["xact_id"] for t in sim.transactions()] == [first["xact_id"]]


def test_xact_ids_are_unique(sim):
    ids = {charged(sim)["xact_id"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize("card", sorted(DECLINED))
def test_a_declined_card_answers_200_not_succeeded_with_the_bank_message(sim, card):
    bank_code, bank_message = DECLINED[card]
    start = initial(sim)
    sim.authenticate(start["session_id"], card_number=card)
    status, answer = charge(sim, start)
    assert status == 200
    assert answer["code"] == 1
    assert answer["is_succeed"] is False
    assert answer["xact_id"] is None
    assert answer["reference_no"] == start["reference_no"]
    assert answer["amount"] == 1234.56
    assert answer["bank_error_code"] == bank_code
    assert answer["bank_error_message"] == bank_message
    assert answer["bank_error_short_desc"]
    assert answer["message"]

    assert_error(*charge(sim, start), 400, 17)
    assert sim.sessions()[0]["status"] == "declined"
    (row,) = sim.transactions()
    assert (row["is_succeed"], row["xact_id"]) == (False, None)

    status, check = call(sim, "/v1/transaction/check", {"reference_no": start["reference_no"]})
    assert status == 200
    assert (check["is_succeed"], check["xact_id"]) == (False, None)
    assert check["bank_error_message"] == bank_message


def test_a_wrong_3ds_password_fails_the_charge_with_16(sim):
    start = initial(sim)
    assert sim.authenticate(start["session_id"], password="b")["status"] == "tds_failed"
    assert_error(*charge(sim, start), 400, 16)
    assert sim.transactions() == []


def test_charge_needs_a_known_session_its_token_and_3ds(sim):
    start = initial(sim)
    status, answer = charge(sim, start)
    assert_error(status, answer, 400, 13)
    assert answer["message"] == "3-D Secure not completed"
    sim.authenticate(start["session_id"])
    assert_error(*charge(sim, {**start, "token_id": uuid.uuid4().hex}), 400, 13)
    assert_error(*charge(sim, {**start, "session_id": uuid.uuid4().hex}), 400, 13)
    assert_error(*call(sim, "/v2/transaction/tds_charge", {}), 400, 13)
    assert charge(sim, start)[0] == 200


def test_authenticate_refuses_an_invalid_card_and_a_used_session(sim):
    start = initial(sim)
    with pytest.raises(PaynetSimulatorError, match="400"):
        sim.authenticate(start["session_id"], card_number=NOT_LUHN)
    with pytest.raises(PaynetSimulatorError, match="404"):
        sim.authenticate(uuid.uuid4().hex)
    sim.authenticate(start["session_id"])
    with pytest.raises(PaynetSimulatorError, match="409"):
        sim.authenticate(start["session_id"])


# -- check --


def test_check_by_reference_no_and_by_xact_id(sim):
    done = charged(sim)
    by_reference = call(sim, "/v1/transaction/check", {"reference_no": done["reference_no"]})
    by_xact_id = call(sim, "/v1/transaction/check", {"xact_id": done["xact_id"]})
    assert by_reference == by_xact_id
    status, answer = by_xact_id
    assert status == 200
    assert answer == {
        "code": 0,
        "message": "Başarılı",
        "is_succeed": True,
        "xact_id": done["xact_id"],
        "xact_date": done["xact_date"],
        "reference_no": done["reference_no"],
        "amount": 1234.56,
        "reversed_amount": 0.0,
        "is_reversed": False,
        "card_no_masked": "435508******4358",
    }


def test_check_of_nothing_charged_answers_12(sim):
    uncharged = initial(sim)
    assert_error(*call(sim, "/v1/transaction/check", {"xact_id": "999"}), 400, 12)
    reference = {"reference_no": uncharged["reference_no"]}
    assert_error(*call(sim, "/v1/transaction/check", reference), 400, 12)
    assert_error(*call(sim, "/v1/transaction/check", {}), 400, 1)


# -- reversed_request --


def refund(sim, xact_id, amount=None) -> tuple[int, dict]:
    body = {"xact_id": xact_id} if amount is None else {"xact_id": xact_id, "amount": amount}
    return call(sim, "/v1/transaction/reversed_request", body)


def test_a_full_reversal_on_the_same_day(sim):
    done = charged(sim)
    status, answer = refund(sim, done["xact_id"])
    assert status == 200
    assert answer == {
        "code": 0,
        "message": "Başarılı",
        "is_succeed": True,
        "xact_id": done["xact_id"],
        "amount": 1234.56,
        "reversed_amount": 1234.56,
    }
    status, check = call(sim, "/v1/transaction/check", {"xact_id": done["xact_id"]})
    assert (check["reversed_amount"], check["is_reversed"]) == (1234.56, True)
    assert_error(*refund(sim, done["xact_id"]), 400, 1)


def test_a_same_day_reversal_may_name_the_whole_amount(sim):
    done = charged(sim)
    assert refund(sim, done["xact_id"], 123456)[1]["reversed_amount"] == 1234.56


def test_the_simulators_day_is_istanbuls_whatever_the_machines_zone(sim, monkeypatch):
    """Paynet's "same day" is Istanbul's, as our refund check's (``business_date``): on a UTC
    machine a payment at 23:50 in Istanbul refunded in part at 00:10 was refused as same-day
    by the simulator and allowed by us. Its times carry Istanbul's offset (no daylight saving
    since 2016). Django sets the process's zone from ``TIME_ZONE``; a simulator started
    without it ran on the machine's."""
    assert charged(sim)["xact_date"].endswith("+03:00")
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        try:
            assert paynet_now().utcoffset() == datetime.timedelta(hours=3)
        finally:
            patch.undo()
            time.tzset()


def test_a_partial_reversal_needs_another_day(sim):
    done = charged(sim)
    status, answer = refund(sim, done["xact_id"], 10000)
    assert_error(status, answer, 400, 1)
    assert answer["message"] == "Same-day reversal must be for the full amount"

    sim.age(done["xact_id"], 1)
    status, answer = refund(sim, done["xact_id"], 10000)
    assert status == 200, answer
    assert (answer["amount"], answer["reversed_amount"]) == (100.0, 100.0)
    assert_error(*refund(sim, done["xact_id"], 113457), 400, 1)  # one kuruş too many
    assert_error(*refund(sim, done["xact_id"], 0), 400, 1)
    assert_error(*refund(sim, done["xact_id"], -5), 400, 1)
    assert_error(*refund(sim, done["xact_id"], "100"), 400, 1)
    status, answer = refund(sim, done["xact_id"], 113456)
    assert (status, answer["amount"], answer["reversed_amount"]) == (200, 1134.56, 1234.56)
    check = call(sim, "/v1/transaction/check", {"xact_id": done["xact_id"]})[1]
    assert check["is_reversed"] is True
    assert sim.transactions()[0]["reversed_amount"] == 1234.56


def test_reversal_of_an_unknown_transaction_answers_12(sim):
    assert_error(*refund(sim, "424242"), 400, 12)
    assert_error(*refund(sim, None), 400, 12)


# -- faults --


def _fault_case(sim, endpoint):
    """(path, body) of a call to ``endpoint`` that succeeds when no fault is queued."""
    if endpoint == "tds_initial":
        body = {"amount": "3,00", "reference_no": "PAY-F", "return_url": RETURN_URL, "domain": "d"}
        return "/v2/transaction/tds_initial", body
    if endpoint == "tds_charge":
        start = initial(sim)
        sim.authenticate(start["session_id"])
        body = {"session_id": start["session_id"], "token_id": start["token_id"]}
        return "/v2/transaction/tds_charge", body
    done = charged(sim)
    if endpoint == "check":
        return "/v1/transaction/check", {"xact_id": done["xact_id"]}
    return "/v1/transaction/reversed_request", {"xact_id": done["xact_id"]}


@pytest.mark.parametrize("endpoint", ["tds_initial", "tds_charge", "check", "reversed_request"])
def test_error_500_answers_html_and_does_nothing(sim, endpoint):
    path, body = _fault_case(sim, endpoint)
    before = (sim.sessions(), sim.transactions())
    sim.fault(endpoint, "error_500", count=2)
    for _ in range(2):
        response = request(sim, path, body)
        assert response.status == 500
        assert response.headers["Content-Type"].startswith("text/html")
        assert b"Internal Server Error" in response.data
    assert (sim.sessions(), sim.transactions()) == before
    status, answer = call(sim, path, body)  # the queue is empty: the operation runs, once
    assert (status, answer["code"]) == (200, 0)


@pytest.mark.parametrize("endpoint", ["tds_initial", "tds_charge", "check", "reversed_request"])
def test_timeout_after_commit_commits_then_closes_without_an_answer(sim, endpoint):
    path, body = _fault_case(sim, endpoint)
    sim.fault(endpoint, "timeout_after_commit", delay=0.2)
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.ProtocolError):
        request(sim, path, body)
    assert time.monotonic() - started >= 0.2
    status, answer = call(sim, path, body)  # the first call took effect
    if endpoint == "tds_initial":
        assert_error(status, answer, 400, 5)
    elif endpoint == "tds_charge":
        assert (status, answer["code"]) == (200, 100)
    elif endpoint == "check":
        assert (status, answer["code"]) == (200, 0)
    else:
        assert_error(status, answer, 400, 1)  # already fully reversed


def test_timeout_after_commit_outlasts_a_client_timeout(sim):
    start = initial(sim)
    sim.authenticate(start["session_id"])
    sim.fault("tds_charge", "timeout_after_commit", delay=2)
    body = {"session_id": start["session_id"], "token_id": start["token_id"]}
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        request(sim, "/v2/transaction/tds_charge", body, timeout=0.5)
    assert sim.sessions()[0]["status"] == "charged"


def test_slow_answers_normally_after_the_delay(sim):
    done = charged(sim)
    sim.fault("check", "slow", delay=0.5)
    started = time.monotonic()
    status, answer = call(sim, "/v1/transaction/check", {"xact_id": done["xact_id"]})
    assert time.monotonic() - started >= 0.5
    assert (status, answer["xact_id"]) == (200, done["xact_id"])
    started = time.monotonic()
    assert call(sim, "/v1/transaction/check", {"xact_id": done["xact_id"]})[0] == 200
    assert time.monotonic() - started < 0.5


def test_faults_are_validated_and_cleared_by_reset(sim):
    for wrong in (
        {"endpoint": "refund", "mode": "slow"},
        {"endpoint": "check", "mode": "hang"},
        {"endpoint": "check", "mode": "slow", "count": 0},
        {"endpoint": "check", "mode": "slow", "delay": -1},
    ):
        response = sim.http.request("POST", f"{sim.url}/_sim/faults", body=json.dumps(wrong))
        assert response.status == 400, wrong
    sim.fault("tds_initial", "error_500", count=3)
    sim.reset()
    initial(sim)


# -- the controls, the log --


def test_without_test_controls_only_health_answers():
    server = make_server("127.0.0.1", 0, secret_key="k", test_controls=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    http = urllib3.PoolManager(retries=False, timeout=5)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        health = http.request("GET", f"{base}/_sim/health")
        assert (health.status, health.json()) == (200, {"ok": True})
        assert http.request("POST", f"{base}/_sim/reset").status == 404
        assert http.request("GET", f"{base}/_sim/transactions").status == 404
        assert http.request("GET", f"{base}/_sim/sessions").status == 404
    finally:
        server.shutdown()
        server.server_close()


def test_an_empty_secret_key_is_refused():
    with pytest.raises(ValueError, match="secret_key"):
        make_server("127.0.0.1", 0, secret_key="", test_controls=True)


def test_the_log_has_one_line_per_request_and_no_card_numbers(sim):
    start = initial(sim)
    card = {"card_number": GOOD_CARD, "expiry_month": "1", "expiry_year": "31", "cvc": "4321"}
    page_post(sim, f"/sim/card/{start['session_id']}", card)
    page_post(sim, f"/sim/card/{start['session_id']}", {**card, "card_number": NOT_LUHN})
    page_post(sim, f"/sim/3ds/{start['session_id']}", {"password": "a"})
    charge(sim, start)
    initial(sim, pan=DIRECT_CARD, month="1", year="2031", cvc="4321")
    for declined in DECLINED:
        sim.authenticate(initial(sim)["session_id"], card_number=declined)
    deadline = time.monotonic() + 5
    while "POST /v2/transaction/tds_charge 200" not in sim.log_text():
        assert time.monotonic() < deadline, sim.log_text()
        time.sleep(0.05)
    log = sim.log_text()
    for number in EVERY_CARD:
        assert number not in log
        assert " ".join(number[i : i + 4] for i in range(0, 16, 4)) not in log
    assert f"POST /sim/card/{start['session_id']} 200" in log
    assert f"POST /sim/card/{start['session_id']} 400" in log
    assert "GET /_sim/health 200" in log
