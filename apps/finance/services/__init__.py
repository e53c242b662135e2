"""Writes of the current account: ``ledger`` (entries and their settlement), ``invoices`` and
``payments`` (the ERP feeds), ``confirmations`` (balance confirmation)."""
