"""The zero-setup demo runs on SQLite (README: ``./dev demo``): migrations, ``seed_demo`` and the
dealer's screens work there too, not only on PostgreSQL. A PostgreSQL-only statement in a path
the demo takes (an ``ALTER INDEX``, ``unnest`` arrays, ``COPY``) fails here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow]

SCREENS = r"""
import django, json, sys
django.setup()
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
token = client.post("/api/v1/auth/token", {"email": "owner@demo001.example.com",
                    "password": "Demo-Dealer-2026"}, content_type="application/json").json()
auth = {"HTTP_AUTHORIZATION": "Bearer " + token["access"]}
answers = {}
for url in ["/api/v1/products?ordering=price", "/api/v1/products?price_min=10&price_max=500",
            "/api/v1/orders", "/api/v1/invoices", "/api/v1/invoices?status=overdue",
            "/api/v1/account/summary", "/api/v1/account/aging",
            "/api/v1/account/statement?date_from=2026-01-01",
            "/api/v1/account/statement?date_from=2026-01-01&format=csv",
            "/api/v1/account/confirmations"]:
    response = client.get(url, **auth)
    answers[url] = response.status_code
invoices = client.get("/api/v1/invoices", **auth).json()["results"]
answers["invoices"] = len(invoices)
answers["xml"] = client.get(f"/api/v1/invoices/{invoices[0]['number']}/xml", **auth).status_code
answers["aging_total"] = client.get("/api/v1/account/aging", **auth).json()["total"]
# the ERP with the demo's printed key: the feeds SQLite can take answer, the set-based ones
# (their SQL is PostgreSQL's) say so with a 501, not a 500
from apps.demo.integration import demo_api_key
erp = Client(HTTP_HOST="127.0.0.1", HTTP_X_API_KEY=demo_api_key())
price = [{"sku": "DEMO-000001", "price_list": "LIST", "min_quantity": 1, "amount": "9.50"}]
answers["erp_prices"] = erp.post("/api/integration/v1/prices", json.dumps(price),
                                 content_type="application/json").json()["code"]
answers["erp_orders"] = erp.get("/api/integration/v1/orders").status_code
# staff count a serial-tracked tool: its serials go through the feed's check and write
from apps.catalog.models import Category, Product
from apps.inventory.models import SerialNumber, Warehouse
from apps.inventory.services import stock_adjust, stock_receive
tool = Product.objects.create(sku="SQLITE-TOOL", name="Matkap", serial_tracked=True,
                              category=Category.objects.filter(parent__isnull=False)[0])
stock_receive(product=tool, warehouse=Warehouse.objects.all()[0], quantity=2,
              serials=["SQLITE-1", "SQLITE-2"])
unit = SerialNumber.objects.select_related("product", "warehouse").get(serial="SQLITE-1")
down = stock_adjust(product=unit.product, warehouse=unit.warehouse, delta=-1, reason="Broken",
                    serials=[unit.serial])
up = stock_adjust(product=unit.product, warehouse=unit.warehouse, delta=1, reason="Found",
                  serials=["SQLITE-NEW-1"])
answers["adjust_serials"] = [down.quantity, SerialNumber.objects.get(pk=unit.pk).status,
                             up.quantity, SerialNumber.objects.get(serial="SQLITE-NEW-1").status]
# the job dashboard: what ran in-process is stored (./dev demo sets
# CELERY_TASK_STORE_EAGER_RESULT), as a worker's results are
from django_celery_results.models import TaskResult
answers["task_results"] = sorted(set(TaskResult.objects.values_list("task_name", "status")))
print(json.dumps(answers))
"""


def test_migrate_seed_and_the_dealer_screens_work_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "REDIS_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "CELERY_TASK_STORE_EAGER_RESULT": "1",  # as ./dev demo
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_FORMAT": "plain",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    migrated = manage("migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    seeded = manage("seed_demo", "--products", "60", "--dealers", "4")
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert " ERROR " not in seeded.stderr, seeded.stderr[-3000:]
    assert "finance: " in seeded.stdout and "open balance confirmation" in seeded.stdout

    screens = subprocess.run(
        [sys.executable, "-c", SCREENS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert screens.returncode == 0, screens.stderr[-3000:]
    import json

    answers = json.loads(screens.stdout.strip().splitlines()[-1])
    assert answers.pop("erp_prices") == "needs_postgresql"
    assert answers.pop("erp_orders") == 200
    assert ["catalog.generate_thumbnail", "SUCCESS"] in answers.pop("task_results")
    assert answers.pop("adjust_serials") == [-1, "written_off", 1, "in_stock"]
    assert {url: code for url, code in answers.items() if url.startswith("/")} == {
        url: 200 for url in answers if url.startswith("/")
    }, answers
    assert answers["invoices"] >= 5 and answers["xml"] == 200
    assert answers["aging_total"] != "0.00"
