from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "apps.finance"
    label = "finance"
    verbose_name = _("Finance")

    def ready(self):
        # in ready(): the selectors import models, which cannot load before the app registry
        from apps.accounts.selectors import credit_provider_register
        from apps.finance import events
        from apps.finance.selectors import customer_credit_exposure, customer_credit_summary
        from apps.finance.services import card_payments
        from apps.finance.services.invoices import invoices_order_cancelled
        from apps.orders.signals import order_cancelled, order_delivered

        events.register()  # invoice.created, payment.recorded in core's event catalogue
        # accounts and orders (below finance) ask a company's credit through this hook
        credit_provider_register(exposure=customer_credit_exposure, summary=customer_credit_summary)
        # an invoiced order cancelled: a credit note pays its invoices (first: the card payment
        # below then sees the invoices paid)
        order_cancelled.connect(invoices_order_cancelled, dispatch_uid="finance_invoices_credit")
        # a card payment that had paid a cancelled order: the money is on account, for review
        order_cancelled.connect(
            card_payments.card_payments_order_cancelled, dispatch_uid="finance_card_paid"
        )
        # a card-paid order delivered short of its invoices: the rest of the money is free
        order_delivered.connect(
            card_payments.card_payments_order_delivered, dispatch_uid="finance_delivered"
        )
