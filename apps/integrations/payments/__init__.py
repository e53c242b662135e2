"""Clients of the card payment gateways (POS providers), each a
``apps.finance.gateways.PaymentProvider`` registered under its name at start-up."""

from __future__ import annotations


def register() -> None:
    # imported when the app registry is ready (called from IntegrationsConfig.ready())
    from apps.finance.gateways import provider_register
    from apps.integrations.payments.paynet import PaynetProvider

    provider_register(PaynetProvider.name, PaynetProvider.from_settings)
