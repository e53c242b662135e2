"""The dealer portal: server-rendered pages (Django templates, htmx for partial updates) on the
same services and selectors as the dealer API, so no business rule is written twice.

Every page needs a signed-in dealer user (session); company data is read through
``scope_to_company``, the one isolation mechanism of the dealer API, so another company's
order is not found (404). Pages speak Turkish unless the dealer chose English (the language
switch sets Django's language cookie).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, login, logout
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views import csrf as csrf_views
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from apps.accounts.api.base import scope_to_company
from apps.accounts.authentication import account_refusal
from apps.accounts.models import Address, DealerRole, User
from apps.accounts.selectors import customer_credit_exposure
from apps.accounts.services.auth import (
    auth_check_password,
    login_complete,
    password_reset_confirm,
    phone_hint,
    sms_code_check,
    sms_code_send,
    sms_login_required,
)
from apps.accounts.services.password_reset import password_reset_request
from apps.accounts.services.registration import registration_verify
from apps.accounts.throttling import AuthIPRateThrottle
from apps.campaigns.models import banner_link_safe
from apps.campaigns.selectors import banner_list_for_customer, campaign_list_for_customer
from apps.catalog import selectors as catalog
from apps.catalog.api.filters import ProductFilter
from apps.catalog.hooks import stock_display
from apps.core import views as core_views
from apps.core.api.files import file_response
from apps.core.clock import business_today
from apps.core.exceptions import (
    Conflict,
    DomainError,
    NotAllowed,
    NotAuthenticated,
    ValidationError,
)
from apps.core.files import FileMissing, FileUnavailable
from apps.core.i18n import portal_language
from apps.core.idempotency import idempotent_by_key
from apps.core.net import client_ip
from apps.core.views import BadRequestSaid
from apps.finance import documents
from apps.finance.models import BalanceConfirmation, Invoice
from apps.finance.selectors import (
    InvoiceStatus,
    customer_credit_summary,
    invoice_queryset,
    overdue_total,
    statement,
    statement_default_end,
    statement_period,
)
from apps.finance.services.card_payments import card_payment_start
from apps.orders import selectors as order_selectors
from apps.orders.api.filters import OrderFilter
from apps.orders.models import CartItem, Order, OrderStatus, PaymentMethod
from apps.orders.selectors import requisition_list_visible
from apps.orders.services import (
    cart_add,
    cart_item_delete,
    cart_item_update,
    cart_rows_add,
    order_approve,
    order_cancel,
    order_place,
    order_reject,
    order_reorder,
    quick_order_preview,
    quick_order_rows,
)
from apps.orders.services.cart import MAX_IMPORT_ROWS
from apps.portal.forms import (
    ORDER_FIELDS,
    StatementForm,
    line_problems,
    order_form_posted,
    posted_id,
)
from apps.pricing.selectors import price_explain_for_dealer

PAGE_SIZE = 24
BUY_PERMS = {"GET": "orders.place_order", "POST": "orders.place_order"}


_ERRORS = {
    400: (
        gettext_lazy("The form could not be read"),
        gettext_lazy("Go back to the page and send the form again."),
    ),
    403: (
        gettext_lazy("Not for your role"),
        gettext_lazy(
            "Your role in the company does not allow this. Your company's owner can change roles."
        ),
    ),
    404: (
        gettext_lazy("Page not found"),
        gettext_lazy("There is no such page, or it belongs to another company."),
    ),
    405: (
        gettext_lazy("Not a page to open"),
        gettext_lazy("This address only takes a form sent from its page."),
    ),
    "csrf": (
        gettext_lazy("The form has expired"),
        gettext_lazy("Reload the page and send the form again."),
    ),
}


def error_page(request, status: int, kind=None, *, message=None):
    """An error as a portal page, in the portal's language, with the portal's navigation;
    ``message`` (a lazy translation) says what is wrong instead of the status's words."""
    title, default = _ERRORS[kind or status]
    message = default if message is None else message
    with translation.override(portal_language(request)):
        request.LANGUAGE_CODE = translation.get_language()
        response = render(request, "portal/error.html", {"title": title, "message": message})
    response.status_code = status
    response["Content-Language"] = request.LANGUAGE_CODE
    return response


def bad_request(request, exception=None):
    """``handler400``: a portal page for the portal's addresses (a form it cannot read: a NUL,
    text that is not UTF-8, too many fields), the site's answer elsewhere."""
    if request.path.startswith("/portal/"):
        said = exception.args[0] if isinstance(exception, BadRequestSaid) else None
        return error_page(request, 400, message=said)
    return core_views.error_400(request, exception)


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: a portal page for the portal's forms, Django's page elsewhere."""
    if request.path.startswith("/portal/"):
        return error_page(request, 403, "csrf")
    return csrf_views.csrf_failure(request, reason=reason)


class NotFoundView(View):
    """Any other address under ``/portal/``: the portal's 404 page; an address that only
    lacks its final slash goes to the page (what ``APPEND_SLASH`` did before this view)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.path.endswith("/"):
            try:
                match = resolve(f"{request.path}/")
            except Resolver404:
                match = None
            if match is not None and match.url_name != "not-found":
                query = request.META.get("QUERY_STRING", "")
                return HttpResponsePermanentRedirect(
                    f"{request.path}/" + (f"?{query}" if query else "")
                )
        return error_page(request, 404)


class PortalView(View):
    """A portal page: Turkish by default; a signed-in dealer user unless ``public``."""

    public = False
    # the permission each method needs, as the API's endpoint for the same thing asks
    # (a viewer may read orders but not fill a cart): {"GET": "orders.view_order", ...}
    perms: dict[str, str] = {}

    def dispatch(self, request, *args, **kwargs):
        # for this request only: activate() would leak the language into whatever the same
        # thread runs next (another request without the cookie, a task, a test)
        with translation.override(portal_language(request)):
            request.LANGUAGE_CODE = translation.get_language()
            try:
                response = self._dispatch(request, *args, **kwargs)
            except Http404:
                response = error_page(request, 404)
            except PermissionDenied:
                response = error_page(request, 403)
        # the page's language, not the one LocaleMiddleware would name after the override ends
        response["Content-Language"] = request.LANGUAGE_CODE
        if not self.public and not response.has_header("Cache-Control"):
            # a company's prices, orders and balances: never kept by a browser or a proxy
            # (the Back button after signing out asks the server again)
            patch_cache_control(response, private=True, no_store=True)
        return response

    def http_method_not_allowed(self, request, *args, **kwargs):
        response = error_page(request, 405)
        response["Allow"] = ", ".join(m.upper() for m in self.http_method_names if hasattr(self, m))
        return response

    def _dispatch(self, request, *args, **kwargs):
        if not self.public:
            user = request.user
            if not user.is_authenticated and request.session.get(SESSION_KEY):
                # signed in, and the account was switched off since (Django no longer loads
                # the user): say so, as a sign-in would, rather than show the form bare
                request.session.flush()
                refusal = _("This account is inactive.")
                return _login_refused(request, refusal, 401, next=request.get_full_path())
            if not user.is_authenticated or getattr(user, "customer_id", None) is None:
                login_url = reverse("portal:login")
                return HttpResponseRedirect(
                    f"{login_url}?{urlencode({'next': request.get_full_path()})}"
                )
            refusal = account_refusal(user)
            if refusal is not None:  # the company was suspended (or closed) since sign-in:
                logout(request)  # as the API refuses its tokens at once
                return _login_refused(request, refusal[1], 401, next=request.get_full_path())
            # HEAD is a GET without the body: it needs what GET needs
            needed = self.perms.get("GET" if request.method == "HEAD" else request.method)
            method = request.method.lower()
            served = method in self.http_method_names and hasattr(self, method)
            # a method the page does not serve is 405 for every role (View.dispatch)
            if needed and served and not user.has_perm(needed):
                # as in the API: a role is told 403 only about its own company's objects
                self.object_lookup(**kwargs)  # Http404: another company's, or none
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def object_lookup(self, **kwargs) -> None:
        """Raise ``Http404`` unless the caller's company has the object the URL names (asked
        before a role's refusal); a page that names no object has nothing to look up."""

    def scoped(self, queryset):
        return scope_to_company(queryset, self.request.user)

    def page(self, template: str, **context):
        return render(self.request, f"portal/{template}", context)


# --- signing in -------------------------------------------------------------------------------


class LoginView(PortalView):
    """E-mail and password (the API's sign-in rules); a user who asked for an SMS code at
    sign-in goes on to ``LoginCodeView`` with the code sent."""

    public = True

    def get(self, request):
        return self.page("login.html", next=request.GET.get("next", ""))

    def post(self, request):
        email = request.POST.get("email", "")
        wanted = request.POST.get("next", "")
        ip, agent = client_ip(request), request.META.get("HTTP_USER_AGENT", "")[:255]
        try:
            user = auth_check_password(
                email=email, password=request.POST.get("password", ""), ip=ip, user_agent=agent
            )
            if user.customer_id is None:  # staff sign in to the back office
                return _login_refused(
                    request,
                    _("This is the dealer portal: staff use the back office."),
                    403,
                    back_office_url=reverse("admin:index"),
                )
            if sms_login_required(user):
                notice = sms_code_send(user=user)
                if notice.code != "sms_code_required":
                    raise notice
                request.session[SMS_PENDING] = {"user": user.pk, "next": wanted}
                messages.info(request, notice.detail)
                return HttpResponseRedirect(reverse("portal:login-code"))
        except (NotAuthenticated, NotAllowed) as exc:  # NotAllowed: the company's status
            return _login_refused(request, exc.detail, exc.status_code, email=email, next=wanted)
        login_complete(user=user, ip=ip, user_agent=agent)
        return _signed_in(request, user, wanted)


SMS_PENDING = "portal_sms_pending"


# --- the links e-mailed to dealers: password reset, e-mail verification -------------------------


def _auth_limited(request, template: str, **context):
    """The API's limit of anonymous auth calls per address (RATE_LIMIT_AUTH_IP), for the
    portal's forms that act without a signed-in user; None when within it."""
    throttle = AuthIPRateThrottle()
    if throttle.allow_request(request, None):
        return None
    wait = max(1, int((throttle.wait() or 1) + 0.999))
    response = render(
        request,
        f"portal/{template}",
        {**context, "error": _("Too many tries: wait a minute and try again.")},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


class PasswordForgotView(PortalView):
    """Ask for a password reset link: the same answer whether or not the address has an
    account (the API's ``auth/password-reset``: the lookup and the e-mail happen in a task)."""

    public = True

    def get(self, request):
        return self.page("password_forgot.html")

    def post(self, request):
        email = request.POST.get("email", "").strip()
        if not email:
            return self.page(
                "password_forgot.html", errors={"email": [_("Enter your e-mail address.")]}
            )
        limited = _auth_limited(request, "password_forgot.html", email=email)
        if limited is not None:
            return limited
        password_reset_request(
            email=email, ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
        )
        return self.page("password_forgot.html", sent=True)


class PasswordResetView(PortalView):
    """The page the reset e-mail links to (``PASSWORD_RESET_URL``): a new password, twice."""

    public = True

    def get(self, request):
        return self.page(
            "password_reset.html",
            uid=request.GET.get("uid", ""),
            token=request.GET.get("token", ""),
        )

    def post(self, request):
        uid, token = request.POST.get("uid", ""), request.POST.get("token", "")
        password = request.POST.get("new_password", "")
        context = {"uid": uid, "token": token}
        limited = _auth_limited(request, "password_reset.html", **context)
        if limited is not None:
            return limited
        if password != request.POST.get("new_password_again", ""):
            errors = {"new_password_again": [_("The two passwords differ.")]}
            return render(
                request, "portal/password_reset.html", {**context, "errors": errors}, status=400
            )
        try:
            password_reset_confirm(
                uid=uid,
                token=token,
                new_password=password,
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except ValidationError as exc:
            return render(
                request,
                "portal/password_reset.html",
                {**context, "errors": exc.errors, "link_dead": "token" in exc.errors},
                status=400,
            )
        messages.success(request, _("Your password is set: sign in with it."))
        return HttpResponseRedirect(reverse("portal:login"))


class EmailVerifyView(PortalView):
    """The page the registration e-mail links to (``REGISTRATION_VERIFY_URL``). Opening the
    link shows a button; the address is confirmed by pressing it (a mail scanner that opens
    every link confirms nothing)."""

    public = True

    def get(self, request):
        return self.page(
            "email_verify.html", uid=request.GET.get("uid", ""), token=request.GET.get("token", "")
        )

    def post(self, request):
        uid, token = request.POST.get("uid", ""), request.POST.get("token", "")
        limited = _auth_limited(request, "email_verify.html", uid=uid, token=token)
        if limited is not None:
            return limited
        try:
            customer = registration_verify(
                uid=uid,
                token=token,
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except ValidationError as exc:
            return render(
                request,
                "portal/email_verify.html",
                {"error": exc.errors.get("token", [exc.detail])[0]},
                status=400,
            )
        return self.page("email_verify.html", verified=True, company_status=customer.status)


def _login_refused(request, error, status, **context):
    return render(request, "portal/login.html", {"error": error, **context}, status=status)


def _signed_in(request, user, wanted: str):
    login(request, user, backend="apps.accounts.backends.LockoutModelBackend")
    safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()})
    return HttpResponseRedirect(wanted if wanted and safe else reverse("portal:dashboard"))


class LoginCodeView(PortalView):
    """The second step for users with an SMS code at sign-in: the code sent to their phone
    (5 minutes, 5 tries; a wrong code counts as a failed login)."""

    public = True

    def _pending(self, request):
        pending = request.session.get(SMS_PENDING) or {}
        user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
        return user, pending.get("next", "")

    def get(self, request):
        user, _next = self._pending(request)
        if user is None:
            return HttpResponseRedirect(reverse("portal:login"))
        return self.page("login_code.html", hint=phone_hint(user))

    def post(self, request):
        user, wanted = self._pending(request)
        if user is None:
            return HttpResponseRedirect(reverse("portal:login"))
        ip, agent = client_ip(request), request.META.get("HTTP_USER_AGENT", "")[:255]
        try:
            sms_code_check(user=user, code=request.POST.get("code", ""), ip=ip, user_agent=agent)
        except NotAuthenticated as exc:
            if exc.code == "sms_code_invalid":
                return render(
                    request,
                    "portal/login_code.html",
                    {"error": exc.detail, "hint": phone_hint(user)},
                    status=401,
                )
            request.session.pop(SMS_PENDING, None)  # expired, too many tries, locked
            return _login_refused(request, exc.detail, 401, email=user.email, next=wanted)
        request.session.pop(SMS_PENDING, None)
        login_complete(user=user, ip=ip, user_agent=agent)
        return _signed_in(request, user, wanted)


class LogoutView(PortalView):
    public = True

    def post(self, request):
        logout(request)
        return HttpResponseRedirect(reverse("portal:login"))


# --- dashboard --------------------------------------------------------------------------------


class DashboardView(PortalView):
    """The account in figures, what waits for the dealer (orders to approve or pay, balance
    confirmations to answer), the distributor's banners and live campaigns for this dealer,
    and the recent orders."""

    def get(self, request):
        user = request.user
        customer = user.customer
        orders = self.scoped(Order.objects.order_by("-created_at", "-id"))
        finance = user.has_perm("finance.view_ledgerentry")
        return self.page(
            "dashboard.html",
            account=customer_credit_summary(customer=customer) if finance else None,
            recent=list(orders[:5]),
            waiting=orders.filter(
                status__in=[OrderStatus.AWAITING_APPROVAL, OrderStatus.AWAITING_PAYMENT]
            ).count(),
            confirmations=self.scoped(BalanceConfirmation.objects.filter(status="open")).count()
            if finance
            else 0,
            banners=[
                banner
                for banner in banner_list_for_customer(customer=customer, placement="home")[:3]
                if _safe_link(banner.link_url)
            ],
            campaigns=list(campaign_list_for_customer(customer=customer)[:6]),
        )


def _safe_link(url: str) -> bool:
    """Stored before the back office checked links: shown only when it is safe."""
    return banner_link_safe(url)


# --- catalog ----------------------------------------------------------------------------------


# the catalog's filters whose errors the filter form shows under its own field (an attribute's
# field is shown only for a valid category: its errors are said with the results)
_SHOWN_BY_FIELD = {"brand", "price_min", "price_max"}
_CATALOG_FILTERS = {
    "search": gettext_lazy("Search text"),
    "ordering": gettext_lazy("Sort by"),
    "category": gettext_lazy("Category"),
    "in_stock": gettext_lazy("In stock only"),
}


class CatalogView(PortalView):
    """The catalog with the API's filters (``ProductFilter``): search, the category tree,
    brand, the category's filterable attributes, in stock, the dealer's price range and
    ordering. The search box swaps the results only (htmx); the filters are a plain form."""

    def get(self, request):
        params = request.GET.copy()
        params.pop("page", None)
        filterset = ProductFilter(params, queryset=catalog.product_filterable(), request=request)
        category = None
        if not filterset.is_valid():
            products, page, error = [], None, True
        else:
            wanted = filterset.form.cleaned_data
            category = wanted.get("category")
            pages = catalog.ProductPages(
                filterset.qs,
                ordering=wanted.get("ordering"),
                searched=bool(wanted.get("search")),
                customer=request.user.customer,
            )
            page = Paginator(pages, PAGE_SIZE).get_page(request.GET.get("page"))
            products = list(page.object_list)
            catalog.attach_prices(products, request.user.customer)
            _attach_stock(products)
            error = False
        errors = filterset.errors if error else {}
        context = {
            "products": products,
            "page_obj": page,
            "search": request.GET.get("search", ""),
            "filter_error": error,
            "errors": errors,
            # what the filter form cannot show under a field of its own, said with the results
            "filter_problems": [
                f"{_CATALOG_FILTERS.get(name, name.removeprefix('attr_'))}: {message}"
                for name, messages_ in errors.items()
                if name not in _SHOWN_BY_FIELD
                for message in messages_
            ],
            "query": params.urlencode(),
        }
        without_category = params.copy()
        for name in [key for key in params if key == "category" or key.startswith("attr_")]:
            without_category.pop(name)
        context |= {
            "tree": catalog.category_tree(),
            "category": category,
            "category_query": without_category.urlencode(),
        }
        if request.htmx:  # typing in the search box: the results, and the links that keep it
            return render(request, "portal/_catalog_search.html", context)
        attributes = catalog.category_filterable_attributes(category) if category else []
        return self.page(
            "catalog.html",
            **context,
            params=params,
            brands=catalog.brand_list(),
            attributes=[
                {"definition": d, "name": f"attr_{d.code}", "value": params.get(f"attr_{d.code}")}
                for d in attributes
            ],
            orderings=CATALOG_ORDERINGS,
        )


CATALOG_ORDERINGS = [
    ("", gettext_lazy("Name")),
    ("price", gettext_lazy("Price: low to high")),
    ("-price", gettext_lazy("Price: high to low")),
    ("-created_at", gettext_lazy("Newest")),
    ("-name", gettext_lazy("Name, Z to A")),
]


class ProductView(PortalView):
    def get(self, request, sku):
        try:
            product = catalog.product_get(sku=sku)
        except DomainError:
            raise Http404 from None
        catalog.attach_prices([product], request.user.customer, with_breaks=True)
        _attach_stock([product])
        lists = []
        if request.user.has_perm("orders.place_order"):  # "Add to list": the lists they edit
            lists = [
                reqlist
                for reqlist in requisition_list_visible(user=request.user).order_by("name")
                if reqlist.can_edit(by=request.user)
            ]
        # the quantity rules the cart would tell only once broken
        rules = []
        if product.min_order_quantity > 1:
            n = product.min_order_quantity
            rules.append(_("The minimum order quantity is %(n)d.") % {"n": n})
        if product.order_multiple > 1:
            rules.append(_("Order in multiples of %(n)d.") % {"n": product.order_multiple})
        return self.page("product.html", product=product, lists=lists, order_rules=rules)


def _attach_stock(products) -> None:
    """What a dealer sees of the stock, by the API's own rule (``{available, status}``)."""
    for product in products:
        product.stock = stock_display(product.available)


class PriceWhyView(PortalView):
    """ "Why this price": the API's explanation for the dealer, as a fragment (htmx) or page."""

    def get(self, request, sku):
        try:
            product = catalog.product_get(sku=sku)
            explanation = price_explain_for_dealer(
                customer=request.user.customer,
                product=product,
                quantity=request.GET.get("quantity", "1"),
            )
        except DomainError as exc:
            if getattr(exc, "status_code", 400) == 404:
                raise Http404 from None
            context, status = {"error": field_problems(exc), "product": product}, 400
        else:
            context, status = {"why": explanation, "product": product}, 200
        template = "portal/_why.html" if request.htmx else "portal/why.html"
        return render(request, template, context, status=status)


# --- quick order ------------------------------------------------------------------------------

QUICK_ORDER_ENTRY_ROWS = 8
SUGGESTIONS = 8


class QuickOrderView(PortalView):
    """SKUs typed (with suggestions), a pasted list or a CSV/Excel file: first a preview of
    each row priced for the dealer (or why it cannot be added), then "Add to cart" adds the
    rows that can be added, through the cart's own import (``cart_rows_add``)."""

    perms = BUY_PERMS

    def get(self, request):
        return self.page("quick_order.html", entries=range(QUICK_ORDER_ENTRY_ROWS))

    def post(self, request):
        if request.POST.get("action") == "add":
            return self._add(request)
        try:
            if "file" in request.FILES:
                rows = quick_order_rows(upload=request.FILES["file"])
            elif request.POST.get("text", "").strip():
                rows = quick_order_rows(text=request.POST["text"])
            else:
                rows = _entry_rows(request)
                if not rows:
                    raise ValidationError({"sku": [_("Enter at least one SKU.")]})
        except (DomainError, APIException) as exc:  # APIException: a file over the size limit
            return render(
                request,
                "portal/quick_order.html",
                {
                    "entries": range(QUICK_ORDER_ENTRY_ROWS),
                    "error": field_problems(exc) if isinstance(exc, DomainError) else exc.detail,
                    "text": request.POST.get("text", ""),
                },
                status=400,
            )
        lines = quick_order_preview(user=request.user, rows=rows)
        return self.page(
            "quick_order_preview.html",
            lines=lines,
            addable=[line for line in lines if line.addable],
        )

    def _add(self, request):
        rows = _entry_rows(request)
        result = added_once(
            request, "quick-order", lambda: cart_rows_add(user=request.user, rows=rows)
        )
        if result is None:  # the same form again: added once already
            return HttpResponseRedirect(reverse("portal:cart"))
        if result.added:
            messages.success(
                request,
                _("%(n)d of %(rows)d lines were added to your cart.")
                % {"n": result.added, "rows": result.rows},
            )
        for error in result.errors:
            messages.error(request, f"{error['sku']}: {error['error']}")
        return HttpResponseRedirect(reverse("portal:cart"))


def _entry_rows(request) -> list[tuple[int, list[str]]]:
    """The ``sku``/``quantity`` pairs of a form (the entry rows, or a confirmed preview),
    numbered from 1, blank SKUs skipped."""
    skus = request.POST.getlist("sku")[:MAX_IMPORT_ROWS]
    quantities = request.POST.getlist("quantity")
    rows = []
    for index, sku in enumerate(skus):
        if sku.strip():
            quantity = quantities[index] if index < len(quantities) else ""
            rows.append((index + 1, [sku.strip(), quantity.strip() or "1"]))
    return rows


class SkuSuggestView(PortalView):
    """Suggestions for a SKU box: ``<option>``s of a ``<datalist>`` (htmx), best matches of
    the catalog search first."""

    perms = BUY_PERMS

    def get(self, request):
        term = request.GET.get("sku", "").strip()[:100]
        products = []
        if len(term) >= 2:
            products = list(
                catalog.product_search(catalog.product_filterable(), term=term)
                .order_by("-search_rank", "sku")
                .only("sku", "name")[:SUGGESTIONS]
            )
        return render(request, "portal/_sku_options.html", {"products": products})


# --- cart and checkout ------------------------------------------------------------------------


class CartView(PortalView):
    perms = BUY_PERMS

    def get(self, request):
        return self.page(
            "cart.html",
            cart=order_selectors.cart_view(user=request.user),
        )

    def post(self, request):
        """Add (sku, quantity), change (item, quantity) or remove (item) a line."""
        line = ""  # the line a refusal is about, named in its message
        try:
            if "remove" in request.POST:
                cart_item_delete(item=self._item(request.POST["remove"]))
            elif "item" in request.POST:
                item = self._item(request.POST["item"])
                line = f"{item.product.sku} {item.product.name}"
                cart_item_update(item=item, quantity=request.POST.get("quantity"))
            else:
                line = request.POST.get("sku", "").strip()[:64]
                cart_add(
                    user=request.user,
                    sku=request.POST.get("sku", ""),
                    quantity=request.POST.get("quantity", "1"),
                )
                messages.success(request, _("Added to your cart."))
        except DomainError as exc:
            problem = field_problems(exc)
            messages.error(request, f"{line}: {problem}" if line else problem)
        back = request.POST.get("back", "")
        if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            return HttpResponseRedirect(back)
        return HttpResponseRedirect(reverse("portal:cart"))

    def _item(self, pk) -> CartItem:
        try:
            pk = posted_id(pk, "item")
        except ValidationError:
            raise Http404 from None  # not an id: no such line
        item = (
            CartItem.objects.select_related("product")
            .filter(pk=pk, cart__user=self.request.user)
            .first()
        )
        if item is None:
            raise Http404
        return item


def field_problems(exc: DomainError) -> str:
    """A service's refusal as one sentence: its field messages, else its detail."""
    details = [str(m) for messages_ in (exc.errors or {}).values() for m in messages_]
    return " ".join(details) or str(exc.detail)


def form_once(request, form: str, handler: Callable[[], str]) -> tuple[str, bool]:
    """``handler()`` (which makes something and answers its number) once per submitted form:
    the form carries its own key (``form_key``, a new one with every page), so a second
    submit of the same form (a double click, a reload) waits for the first and gets its
    number, ``(number, True)``, instead of making a second return or quote request."""
    key = request.POST.get("form_key", "")

    def run() -> Response:
        return Response({"number": handler()}, status=201)

    if not key:
        return handler(), False
    try:
        answer = idempotent_by_key(
            key,
            {"form": form},  # whatever the fields say, one form makes one thing
            scope=f"portal:{form}:{request.user.pk}",
            handler=run,
            rebuild=lambda number: Response({"number": number}, status=201),
            atomic=True,
            field="form_key",
        )
    except Conflict as exc:
        if exc.code != "idempotency_retry":
            raise
        return handler(), False  # the first submit failed: this one tries again
    return answer.data["number"], answer.has_header("Idempotent-Replayed")


def added_once(request, form: str, add: Callable[[], Any]):
    """``add()`` (lines into the cart) once per submitted form (``form_once``): its result,
    or ``None`` for a second submit of the same form (a double click doubled the cart's
    quantities)."""
    results = []

    def run() -> str:
        results.append(add())
        return form

    _form, replayed = form_once(request, form, run)
    return None if replayed else results[-1]


CHECKOUT_FORM = {"form": "checkout"}


class CheckoutView(PortalView):
    perms = BUY_PERMS

    def _context(self, request, **extra):
        addresses = self.scoped(Address.objects.order_by("-is_default", "title"))
        cart = order_selectors.cart_view(user=request.user)
        user, customer = request.user, request.user.customer
        return {
            "cart": cart,
            # what placing will do, by the placement's own rules (``first_status``)
            "needs_approval": user.role == DealerRole.PURCHASING
            and user.order_limit is not None
            and cart.grand_total > user.order_limit,
            "over_credit": bool(cart.lines)
            and customer_credit_exposure(customer=customer, extra=cart.grand_total)
            > customer.credit_limit,
            "shipping": [a for a in addresses if a.type == Address.Type.SHIPPING],
            "billing": [a for a in addresses if a.type == Address.Type.BILLING],
            "methods": PaymentMethod.choices,
            **extra,
        }

    def get(self, request):
        return self.page("checkout.html", **self._context(request, checkout_key=uuid.uuid4()))

    def post(self, request):
        # the form's own key: a second submit of the same form (a double click, a reload)
        # waits for the first and shows its order instead of ordering the cart again
        key = request.POST.get("checkout_key", "")
        try:
            try:
                answer = (
                    idempotent_by_key(
                        key,
                        CHECKOUT_FORM,  # whatever the fields say, one form places one order
                        scope=f"portal:checkout:{request.user.pk}",
                        handler=lambda: self._place(request),
                        rebuild=lambda number: Response({"number": number}, status=201),
                        field="checkout_key",
                    )
                    if key
                    else self._place(request)
                )
            except Conflict as exc:
                if exc.code != "idempotency_retry":
                    raise
                answer = self._place(request)  # the first submit failed: this one tries again
        except DomainError as exc:
            # an order from the cart: its lines in the order the placement reads them
            skus = CartItem.objects.filter(cart__user=request.user).order_by("id")
            return render(
                request,
                "portal/checkout.html",
                self._context(
                    request,
                    error=line_problems(
                        exc,
                        list(skus.values_list("product__sku", flat=True)),
                        list_field="items",
                        labels=ORDER_FIELDS,
                    ),
                    posted=request.POST,
                    checkout_key=uuid.uuid4(),
                ),
                status=exc.status_code,
            )
        number = answer.data["number"]
        if answer.has_header("Idempotent-Replayed"):
            messages.info(request, _("Order %(n)s was placed already.") % {"n": number})
        else:
            messages.success(
                request,
                _("Order %(n)s is placed: %(status)s.")
                % {"n": number, "status": answer.data["status"]},
            )
        return HttpResponseRedirect(reverse("portal:order", args=[number]))

    @staticmethod
    def _place(request) -> Response:
        order = order_place(
            user=request.user, **order_form_posted(request), note=request.POST.get("note", "")
        )
        return Response(
            {"number": order.number, "status": str(order.get_status_display())}, status=201
        )


# --- orders -----------------------------------------------------------------------------------


class OrderListView(PortalView):
    """The company's orders with the API's filters (``OrderFilter``: status, created from/to)."""

    perms = {"GET": "orders.view_order"}

    def get(self, request):
        filterset = OrderFilter(
            request.GET, queryset=self.scoped(Order.objects.order_by("-created_at", "-id"))
        )
        valid = filterset.is_valid()
        orders = filterset.qs if valid else Order.objects.none()
        page = Paginator(orders, 25).get_page(request.GET.get("page"))
        params = request.GET.copy()
        params.pop("page", None)
        return self.page(
            "orders.html",
            page_obj=page,
            statuses=OrderStatus.choices,
            params=params,
            query=params.urlencode(),
            errors=filterset.errors if not valid else {},
        )


class OrderView(PortalView):
    perms = {"GET": "orders.view_order", "POST": "orders.cancel_order"}

    def _order(self, number) -> Order:
        order = (
            self.scoped(Order.objects.prefetch_related("lines", "status_history"))
            .filter(number=number)
            .first()
        )
        if order is None:
            raise Http404
        return order

    def object_lookup(self, *, number) -> None:
        self._order(number)

    def get(self, request, number):
        order = self._order(number)
        # the addresses as the order took them (a copy: later edits do not change an order)
        addresses = [
            (_("Shipping address"), order.shipping_address),
            (_("Billing address"), order.billing_address),
        ]
        return self.page("order.html", order=order, addresses=addresses)

    def post(self, request, number):
        order = self._order(number)
        try:
            order_cancel(order=order, by=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("Order %(n)s is cancelled.") % {"n": order.number})
        except DomainError as exc:
            messages.error(request, field_problems(exc))
        return HttpResponseRedirect(reverse("portal:order", args=[order.number]))


class OrderReorderView(OrderView):
    """The order's lines into the cart at today's prices (the API's ``reorder``)."""

    http_method_names = ["post"]
    perms = BUY_PERMS

    def post(self, request, number):
        order = self._order(number)
        result = added_once(
            request, "reorder", lambda: order_reorder(user=request.user, order=order)
        )
        if result is None:  # the same form again: added once already
            return HttpResponseRedirect(reverse("portal:cart"))
        if result.added:
            messages.success(
                request,
                ngettext(
                    "%(n)d line was added to your cart at today's prices.",
                    "%(n)d lines were added to your cart at today's prices.",
                    len(result.added),
                )
                % {"n": len(result.added)},
            )
        for skipped in result.skipped:
            messages.error(request, f"{skipped['sku']}: {skipped['reason']}")
        return HttpResponseRedirect(reverse("portal:cart"))


class OrderPayView(OrderView):
    """A card order waiting for payment: to the bank's 3-D Secure page (the gateway's return
    page links back to the portal)."""

    http_method_names = ["post"]
    perms = {"POST": "finance.add_cardpayment"}

    def post(self, request, number):
        order = self._order(number)
        try:
            payment = card_payment_start(
                user=request.user, amount=order.grand_total, order_number=order.number
            )
        except DomainError as exc:
            messages.error(request, field_problems(exc))
        except APIException as exc:  # the gateway is down: 503 in the API
            messages.error(request, str(exc.detail))
        else:
            return HttpResponseRedirect(payment.redirect_url)
        return HttpResponseRedirect(reverse("portal:order", args=[order.number]))


# --- approvals (dealer owners) ----------------------------------------------------------------


class ApprovalsView(PortalView):
    """Orders of the company's purchasing users over their limit, for the owner to decide."""

    def _allowed(self) -> bool:
        return self.request.user.has_perm("orders.approve_order")

    def get(self, request):
        if not self._allowed():
            raise PermissionDenied
        waiting = self.scoped(
            Order.objects.filter(status=OrderStatus.AWAITING_APPROVAL)
            .select_related("placed_by")
            .order_by("created_at")
        )
        return self.page("approvals.html", orders=list(waiting))

    def post(self, request):
        if not self._allowed():
            raise PermissionDenied
        order = self.scoped(Order.objects.all()).filter(number=request.POST.get("number")).first()
        if order is None:
            raise Http404
        try:
            decision = request.POST.get("decision")
            if decision == "approve":
                order = order_approve(order=order, by=request.user)
            elif decision == "reject":
                order = order_reject(
                    order=order, by=request.user, reason=request.POST.get("reason", "")
                )
            else:  # the form's buttons send one or the other
                raise ValidationError({"decision": [_("Choose to approve or to reject.")]})
            messages.success(
                request,
                _("Order %(n)s is %(status)s.")
                % {"n": order.number, "status": order.get_status_display()},
            )
        except DomainError as exc:
            messages.error(request, f"{order.number}: {field_problems(exc)}")
        return HttpResponseRedirect(reverse("portal:approvals"))


# --- the current account (owners, finance users, viewers) -------------------------------------


class FinanceView(PortalView):
    # purchasing users: the account is not theirs to read (the portal's 403 page tells them)
    perms = {"GET": "finance.view_ledgerentry"}


def download(
    render, *args, content_type: str, filename: str, request, inline: bool = False
) -> HttpResponse:
    """``render(*args)``'s bytes as a download (``inline``: shown in the browser); the file
    gone: 404, the storage down: the 503 page."""
    try:
        content = render(*args)
    except FileMissing:
        raise Http404 from None
    except FileUnavailable:
        return render_page_unavailable(request)
    return file_response(content, content_type, filename, inline=inline)


def render_page_unavailable(request) -> HttpResponse:
    """The storage did not give or take the file: 503 with ``Retry-After``, as every 503."""
    response = render(
        request,
        "portal/unavailable.html",
        {"message": _("This document cannot be produced right now. Try again in a few minutes.")},
        status=503,
    )
    response["Retry-After"] = str(settings.DB_UNAVAILABLE_RETRY_AFTER)
    return response


class InvoiceListView(FinanceView):
    def get(self, request):
        invoices = invoice_queryset(self.scoped(Invoice.objects.order_by("-issue_date", "-id")))
        status = request.GET.get("status", "")
        if status in dict(InvoiceStatus.CHOICES):
            invoices = invoices.filter(status=status)
        page = Paginator(invoices, 25).get_page(request.GET.get("page"))
        other_overdue = None
        if status == InvoiceStatus.OVERDUE:
            # the start page's overdue figure also holds debts that are not invoices (an
            # opening balance, a debit adjustment, a card refund): said here, not hidden
            listed = invoices.aggregate(total=Sum("open_amount"))["total"] or Decimal("0.00")
            rest = overdue_total(customer=request.user.customer) - listed
            other_overdue = rest if rest > 0 else None
        return self.page(
            "invoices.html",
            page_obj=page,
            statuses=InvoiceStatus.CHOICES,
            status=status,
            other_overdue=other_overdue,
        )


class InvoiceFileView(FinanceView):
    def object_lookup(self, *, number, kind) -> None:
        if not self.scoped(Invoice.objects.all()).filter(number=number).exists():
            raise Http404

    def get(self, request, number, kind):
        invoice = self.scoped(Invoice.objects.all()).filter(number=number).first()
        if invoice is None or kind not in ("pdf", "xml") or (kind == "xml" and not invoice.xml):
            raise Http404
        if kind == "xml":
            return download(
                documents.stored_bytes,
                invoice.xml,
                content_type="application/xml",
                filename=f"{invoice.number}.xml",
                request=request,
            )
        return download(
            documents.invoice_pdf_bytes,
            invoice,
            content_type="application/pdf",
            filename=f"{invoice.number}.pdf",
            request=request,
        )


class StatementView(FinanceView):
    """A date range, then the statement as PDF or CSV (the API's documents)."""

    def get(self, request):
        today, end = business_today(), statement_default_end(request.user.customer)
        form = StatementForm(
            request.GET or None,
            initial={"date_from": today.replace(month=1, day=1), "date_to": end},
        )
        if not form.is_bound:
            return self.page("statement.html", form=form)
        if form.is_valid():
            try:  # the API's defaults and rules (at most 10 years at a time)
                date_from, date_to = statement_period(
                    date_from=form.cleaned_data["date_from"],
                    date_to=form.cleaned_data["date_to"],
                    default_end=end,
                )
            except ValidationError as exc:
                for field, messages in exc.errors.items():
                    for message in messages:
                        form.add_error(field, message)
        if not form.is_valid():
            response = self.page("statement.html", form=form)
            response.status_code = 400
            return response
        customer = request.user.customer
        result = statement(customer=customer, date_from=date_from, date_to=date_to)
        name = f"statement-{customer.code}-{date_from:%Y%m%d}-{date_to:%Y%m%d}"
        if form.cleaned_data["format"] == "csv":
            return download(
                lambda rows: documents.statement_csv(rows, semicolon=True),
                result,
                content_type="text/csv; charset=utf-8",
                filename=f"{name}.csv",
                request=request,
            )
        refusal = documents.statement_pdf_refusal(result)
        if refusal:
            form.add_error("format", refusal)
            response = self.page("statement.html", form=form)
            response.status_code = 400
            return response
        return download(
            documents.statement_pdf,
            result,
            content_type="application/pdf",
            filename=f"{name}.pdf",
            request=request,
        )
