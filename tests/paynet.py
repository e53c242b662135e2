"""The Paynet simulator (apps/integrations/paynet_simulator.py) as a real process for the tests.

``PaynetSimulator().start()`` runs ``manage.py paynet_simulator --test-controls`` on a free
loopback port and waits for its health check; its stderr (one line per request) goes to a
temporary file that ``log_text()`` reads. The other methods drive the ``/_sim/`` test controls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import urllib3

from tests.conftest import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 20.0


class PaynetSimulatorError(AssertionError):
    """A test control answered something else than 200."""


class PaynetSimulator:
    def __init__(self, secret_key: str = "sck_test_simulator"):  # noqa: S107
        self.secret_key = secret_key
        self.port = free_port()
        self.http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=5, read=30), retries=False)
        self._process: subprocess.Popen | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop())
            prefix="paynet-simulator-", suffix=".log", delete=False
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PaynetSimulator:
        command = [sys.executable, "manage.py", "paynet_simulator", "--port", str(self.port)]
        command += ["--secret-key", self.secret_key, "--test-controls"]
        self._process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        deadline = time.monotonic() + START_TIMEOUT
        try:
            wait_for_port(self.port, timeout=START_TIMEOUT)
            while True:
                try:
                    if self.http.request("GET", f"{self.url}/_sim/health").status == 200:
                        return self
                except urllib3.exceptions.HTTPError:
                    pass
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Paynet simulator did not start:\n" + self.log_text())
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        if not self._log.closed:
            self._log.close()
            Path(self._log.name).unlink(missing_ok=True)

    def log_text(self) -> str:
        """Everything the simulator wrote to stderr so far (until stop())."""
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def _control(self, method: str, path: str, body: dict | None = None):
        response = self.http.request(
            method,
            f"{self.url}{path}",
            body=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        if response.status != 200:
            raise PaynetSimulatorError(f"{method} {path}: {response.status} {response.data!r}")
        return response.json()

    def reset(self) -> None:
        """Forget every session, transaction and queued fault."""
        self._control("POST", "/_sim/reset")

    def fault(self, endpoint: str, mode: str, count: int = 1, delay: float | None = None) -> None:
        """Queue ``count`` faults (timeout_after_commit, error_500, slow) for ``endpoint``
        (tds_initial, tds_charge, check, reversed_request)."""
        body = {"endpoint": endpoint, "mode": mode, "count": count}
        if delay is not None:
            body["delay"] = delay
        self._control("POST", "/_sim/faults", body)

    def authenticate(
        self,
        session_id: str,
        *,
        card_number: str = "4355084355084358",
        password: str = "a",  # noqa: S107
        expiry_month: str = "12",
        expiry_year: str = "2030",
        cvc: str = "000",
    ) -> dict:
        """The card and 3-D Secure steps in one call -> ``{"return_url": ..., "fields":
        {"session_id": ..., "token_id": ...}, "status": ...}``, what the browser would post."""
        body = {
            "card_number": card_number,
            "password": password,
            "expiry_month": expiry_month,
            "expiry_year": expiry_year,
            "cvc": cvc,
        }
        return self._control("POST", f"/_sim/sessions/{session_id}/authenticate", body)

    def transactions(self) -> list[dict]:
        return self._control("GET", "/_sim/transactions")["transactions"]

    def sessions(self) -> list[dict]:
        return self._control("GET", "/_sim/sessions")

    def age(self, xact_id: str, days: int) -> None:
        """Move the transaction's date ``days`` into the past (a partial refund needs a day)."""
        self._control("POST", f"/_sim/transactions/{xact_id}/age", {"days": days})
