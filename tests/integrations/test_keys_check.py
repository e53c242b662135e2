"""``manage.py keys_check``: the stored keys that the key rules refuse (kept from before the
rule), which the ERP can no longer name."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tests.catalog.factories import ProductFactory, WarehouseFactory

pytestmark = [pytest.mark.django_db]


def test_keys_the_rules_refuse_are_listed_and_the_command_fails():
    ProductFactory(sku="M8×40", barcodes=["8690000000011", "86900\u200b00000028"])
    ProductFactory(sku="ÇAY-İŞ 1")  # Turkish letters: a good key
    WarehouseFactory(code="ІЅТ")  # Cyrillic look-alikes of IST
    ProductFactory(sku="KBL/why")  # the address of KBL's explanation
    out = StringIO()
    with pytest.raises(SystemExit) as failed:
        call_command("keys_check", stdout=out)
    assert failed.value.code == 1
    lines = out.getvalue().splitlines()
    assert any(line.startswith("catalog.Product.sku ") and "U+00D7" in line for line in lines)
    assert any(line.startswith("inventory.Warehouse.code ") for line in lines)
    assert any(line.startswith("catalog.Product.barcodes ") for line in lines)
    assert not any("ÇAY" in line or "\\xc7AY" in line for line in lines)
    assert any(line.startswith("catalog.Product.sku ") and "why" in line for line in lines)
    assert lines[-1] == "4 key(s) the ERP can no longer name"


def test_with_every_key_good_it_says_so():
    ProductFactory(sku="ÇAY-İŞ 1")
    out = StringIO()
    call_command("keys_check", stdout=out)
    assert out.getvalue().strip() == "every stored key follows the key rules"
