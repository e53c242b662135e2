"""Dealer companies (customers), the people who log in, their addresses, consents, API keys
and the authentication audit log."""

from __future__ import annotations

from decimal import Decimal

from auditlog.registry import auditlog
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.validators import (
    normalize_tax_number,
    validate_country_code,
    validate_tax_number,
)
from apps.core.models import AuditedModel, SoftDeleteModel, TimeStampedModel
from apps.core.money import money_text
from apps.core.text import email_address, phone_text, postal_code_text


class Tier(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class CustomerStatus(models.TextChoices):
    # a self-registration whose owner has not yet confirmed the e-mail address: not in the
    # staff approval queue, nobody can log in
    UNVERIFIED = "unverified", _("e-mail not verified")
    PENDING = "pending", _("pending approval")
    ACTIVE = "active", _("active")
    SUSPENDED = "suspended", _("suspended")
    REJECTED = "rejected", _("rejected")


class DealerRole(models.TextChoices):
    OWNER = "owner", _("owner")
    PURCHASING = "purchasing", _("purchasing")
    FINANCE = "finance", _("finance")
    VIEWER = "viewer", _("viewer")


class CustomerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=CustomerStatus.ACTIVE)


class CustomerManager(models.Manager.from_queryset(CustomerQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(is_deleted=False)


customer_code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$",
    _("Use 1-32 letters, digits, '.', '_' or '-'."),
)


# statuses of a self-registration that staff have not approved (its users cannot sign in)
NOT_APPROVED = (CustomerStatus.UNVERIFIED, CustomerStatus.PENDING, CustomerStatus.REJECTED)

# a self-registered company's code until staff give it its ERP code
TEMPORARY_CODE_PREFIX = "TMP-"

# what a form says of an e-mail address another user has (any case)
EMAIL_TAKEN = _("Another user has this e-mail address.")


def _email_taken(error) -> bool:
    messages = error.messages if isinstance(error, DjangoValidationError) else [str(error)]
    return [str(m) for m in messages] == [str(EMAIL_TAKEN)]


# the longest payment terms a dealer is given (the ERP feed's limit too)
MAX_PAYMENT_TERMS_DAYS = 365


class Customer(SoftDeleteModel, AuditedModel):
    """A dealer company."""

    code = models.CharField(
        _("ERP code"), max_length=32, unique=True, validators=[customer_code_validator]
    )
    name = models.CharField(_("name"), max_length=200)
    tax_number = models.CharField(
        _("tax number"),
        max_length=11,
        validators=[validate_tax_number],
        help_text=_("VKN (10 digits) or TCKN (11 digits)."),
    )
    tax_office = models.CharField(_("tax office"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, validators=[phone_text])
    email = models.EmailField(_("e-mail"), blank=True)
    tier = models.CharField(_("tier"), max_length=1, choices=Tier.choices, default=Tier.C)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=CustomerStatus.choices,
        default=CustomerStatus.PENDING,
        db_index=True,
    )
    credit_limit = models.DecimalField(
        _("credit limit"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"),
        default=30,
        validators=[MaxValueValidator(MAX_PAYMENT_TERMS_DAYS)],  # as the ERP feed: a year
    )
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sales representative"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_customers",
        limit_choices_to={"is_staff": True},
    )
    status_reason = models.TextField(_("status reason"), blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    objects = CustomerManager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tax_number"],
                condition=Q(is_deleted=False),
                name="accounts_customer_tax_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0), name="accounts_customer_credit_limit_gte_0"
            ),
        ]
        permissions = [
            ("view_all_customers", _("Can see every customer (not only assigned ones)")),
            ("approve_customer", _("Can approve, reject or suspend customers")),
            ("change_credit_limit", _("Can change credit limits")),
            # dealer capabilities (granted to dealer role groups)
            ("manage_company_users", _("Dealer: can manage the company's users")),
            ("manage_company_addresses", _("Dealer: can manage the company's addresses")),
        ]

    @property
    def has_erp_code(self) -> bool:
        """The code is the ERP's key (every feed names the company by it), not a
        registration's temporary one."""
        return not self.code.startswith(TEMPORARY_CODE_PREFIX)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self):
        super().clean()
        # one stored form (ASCII digits), whatever the form sent: the uniqueness of live
        # companies' tax numbers holds for full-width and ASCII digits alike
        self.tax_number = normalize_tax_number(self.tax_number)

    @property
    def is_active_customer(self) -> bool:
        return self.status == CustomerStatus.ACTIVE and not self.is_deleted


class CreditLimitChange(models.Model):
    """History of credit limit changes: who, when, old, new, why, from where."""

    class Source(models.TextChoices):
        ADMIN = "admin", _("back office")
        ERP = "erp", _("ERP")
        SYSTEM = "system", _("system")

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="credit_limit_changes",
    )
    old_limit = models.DecimalField(_("old limit"), max_digits=14, decimal_places=2)
    new_limit = models.DecimalField(_("new limit"), max_digits=14, decimal_places=2)
    reason = models.TextField(_("reason"), blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("credit limit change")
        verbose_name_plural = _("credit limit changes")

    def __str__(self) -> str:
        return gettext("Credit limit %(old)s → %(new)s") % {
            "old": money_text(self.old_limit),
            "new": money_text(self.new_limit),
        }


class Address(SoftDeleteModel, AuditedModel):
    class Type(models.TextChoices):
        BILLING = "billing", _("billing")
        SHIPPING = "shipping", _("shipping")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="addresses"
    )
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    title = models.CharField(_("title"), max_length=100)
    line1 = models.CharField(_("address line 1"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    district = models.CharField(_("district"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100)
    postal_code = models.CharField(
        _("postal code"), max_length=16, blank=True, validators=[postal_code_text]
    )
    country = models.CharField(
        _("country"),
        max_length=2,
        default="TR",
        validators=[validate_country_code],
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True, validators=[phone_text])
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["type", "-is_default", "title", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "type"],
                condition=Q(is_default=True, is_deleted=False),
                name="accounts_address_one_default_per_type",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_type_display()})"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # e-mail login is case-insensitive; the live account before a removed one (a person
        # removed from one dealer may have an account at another under the same address)
        user = self.filter(email__iexact=username).order_by("is_deleted", "-pk").first()
        if user is None:
            raise self.model.DoesNotExist
        return user

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=email_address(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: distributor staff (``customer`` is null) or a user of a dealer company."""

    # unique among the live accounts, in any case (``accounts_user_email_ci_unique``): a person
    # removed from one dealer keeps their row and may have an account at another
    email = models.EmailField(_("e-mail address"), max_length=254, db_index=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, validators=[phone_text])
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    role = models.CharField(_("dealer role"), max_length=16, choices=DealerRole.choices, blank=True)
    order_limit = models.DecimalField(
        _("order limit"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Orders above this gross total wait for an owner's approval; empty = none."),
    )
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Distributor staff; may log into the back office."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_deleted = models.BooleanField(_("deleted"), default=False, db_index=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    email_verified_at = models.DateTimeField(
        _("e-mail verified at"),
        null=True,
        blank=True,
        help_text=_("When the user proved the address (registration link or password link)."),
    )
    # in every JWT as the ``ver`` claim; raising it ends every access token issued before
    # (logout, password reset, deactivation)
    sms_login = models.BooleanField(
        _("SMS code at sign-in"),
        default=False,
        help_text=_("After the password, a one-time code sent by SMS to the phone number."),
    )
    token_version = models.PositiveIntegerField(_("token version"), default=0, editable=False)
    # in the browser sessions' hash; raising it ends them (deactivation, removal, password
    # reset: ``tokens_revoke_all``), also once the user is switched on again
    session_version = models.PositiveIntegerField(_("session version"), default=0, editable=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                # among the live accounts: a person removed from one dealer (the row kept for
                # the history it names) can be registered or added at another
                condition=Q(is_deleted=False),
                name="accounts_user_email_ci_unique",
                # what a form shows (the back office's users screen), not the constraint's name
                violation_error_message=EMAIL_TAKEN,
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=True, role="")
                | Q(customer__isnull=False) & ~Q(role=""),
                name="accounts_user_role_iff_customer",
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=True) | Q(is_staff=False),
                name="accounts_user_dealer_is_not_staff",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def _get_session_auth_hash(self, secret=None):
        """Django's HMAC of the password, with the session version: a browser session
        signed in before ``tokens_revoke_all`` (a deactivation...) is logged out, as the
        password's change logs it out."""
        return salted_hmac(
            "apps.accounts.models.User.get_session_auth_hash",
            f"{self.password}\x00{self.session_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def clean(self):
        super().clean()
        try:
            self.email = email_address(self.email)
        except ValueError as exc:
            raise DjangoValidationError({"email": [str(exc)]}) from None

    def validate_unique(self, exclude=None):
        # the e-mail is checked once, whatever its case, by its constraint (below): not also
        # by the field's exact-case ``unique`` in Django's own words
        super().validate_unique(exclude={*(exclude or ()), "email"})

    def validate_constraints(self, exclude=None):
        """The e-mail's case-insensitive constraint names the e-mail field (a constraint on
        an expression would put its message above the form). Django leaves out a conditional
        constraint whose condition names a field the form does not hold (``is_deleted``): the
        e-mail among the live accounts is checked here then, or the save raised (a 500)."""
        try:
            super().validate_constraints(exclude=exclude)
            if (
                "email" not in (exclude or ())
                and not self.is_deleted
                and type(self)
                .objects.filter(email__iexact=self.email, is_deleted=False)
                .exclude(pk=self.pk)
                .exists()
            ):
                raise DjangoValidationError({"email": [EMAIL_TAKEN]})
        except DjangoValidationError as exc:
            errors = exc.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            taken = [e for e in general if _email_taken(e)]
            if not taken:
                raise
            if len(taken) < len(general):
                errors[NON_FIELD_ERRORS] = [e for e in general if not _email_taken(e)]
            errors.setdefault("email", []).extend(taken)
            raise DjangoValidationError(errors) from None

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def is_dealer(self) -> bool:
        return self.customer_id is not None


class Consent(models.Model):
    """A consent given or withdrawn by a user (terms, KVKK notice, marketing)."""

    class Kind(models.TextChoices):
        TERMS = "terms", _("terms of sale")
        KVKK = "kvkk", _("KVKK privacy notice")
        MARKETING = "marketing", _("marketing messages")

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="consents"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    version = models.CharField(_("version"), max_length=32)
    granted = models.BooleanField(_("granted"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"{self.kind} {self.version}: {'granted' if self.granted else 'withdrawn'}"


class SmsLoginCode(models.Model):
    """The pending SMS code of a user's sign-in: only its digest, when it was sent and the
    wrong tries so far. One per user, removed when used or void; in the database, so a sign-in
    does not depend on the cache being up."""

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    digest = models.CharField(_("code digest"), max_length=64)
    sent_at = models.DateTimeField(_("sent at"))
    tries = models.PositiveSmallIntegerField(_("wrong tries"), default=0)

    class Meta:
        verbose_name = _("SMS sign-in code")
        verbose_name_plural = _("SMS sign-in codes")

    def __str__(self) -> str:
        return f"SMS code of user {self.user_id}, sent {self.sent_at:%Y-%m-%d %H:%M}"


class AuthEvent(models.Model):
    """Every login, logout, failed login, lockout, token refresh and password reset; the
    back office's two-factor steps (a wrong code is a failed login, the code's success the
    login)."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("login")
        LOGIN_FAILED = "login_failed", _("failed login")
        LOCKOUT = "lockout", _("lockout")
        LOGOUT = "logout", _("logout")
        TOKEN_REFRESH = "token_refresh", _("token refresh")
        PASSWORD_RESET_REQUESTED = "password_reset_requested", _("password reset requested")
        PASSWORD_RESET_DONE = "password_reset_done", _("password reset done")
        PASSWORD_CHANGED = "password_changed", _("password changed by the user")
        UNLOCK = "unlock", _("unlock by staff")
        TOKEN_REUSE = "token_reuse", _("rotated refresh token used again")
        REGISTRATION_REFUSED = "registration_refused", _("registration refused (already known)")
        EMAIL_VERIFIED = "email_verified", _("e-mail verified")
        # the back office's two-factor sign-in (apps/accounts/two_factor.py)
        LOGIN_PASSWORD = "login_password", _("password right, two-factor code pending")
        TWO_FACTOR_ENROLLED = "two_factor_enrolled", _("two-factor sign-in turned on")
        TWO_FACTOR_DISABLED = "two_factor_disabled", _("two-factor sign-in turned off")
        RECOVERY_CODES_NEW = "recovery_codes_new", _("new recovery codes")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, db_index=True)
    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="auth_events",
    )
    email = models.CharField(_("e-mail"), max_length=254, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=500, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("authentication event")
        verbose_name_plural = _("authentication events")
        indexes = [
            # an address's failed logins of the last minutes, read at every login (lockout)
            models.Index(
                fields=["ip_address", "at"],
                condition=Q(kind="login_failed"),
                name="accounts_authevent_ip_failed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.email}"


class ApiKeyScope(models.TextChoices):
    CUSTOMERS_WRITE = "customers:write", "customers:write"
    CATALOG_WRITE = "catalog:write", "catalog:write"
    PRICES_WRITE = "prices:write", "prices:write"
    STOCK_WRITE = "stock:write", "stock:write"
    INVOICES_WRITE = "invoices:write", "invoices:write"
    PAYMENTS_WRITE = "payments:write", "payments:write"
    ORDERS_READ = "orders:read", "orders:read"
    ORDERS_WRITE = "orders:write", "orders:write"
    RETURNS_READ = "returns:read", "returns:read"
    RETURNS_WRITE = "returns:write", "returns:write"
    WEBHOOKS_MANAGE = "webhooks:manage", "webhooks:manage"


class ApiKeyQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class ApiKey(TimeStampedModel):
    """A key for a system (the ERP connector). Only a SHA-256 hash of the secret is stored."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(_("key hash"), max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    allowed_ips = models.JSONField(
        _("allowed IP networks"),
        default=list,
        blank=True,
        help_text=_("CIDR networks; empty = any address."),
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from IP"), null=True, blank=True)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def api_key_id(self) -> int:
        """What the rate limiter counts by."""
        return self.pk


# every change is audited with old/new values; secrets and noise excluded
auditlog.register(
    User,
    exclude_fields=["password", "last_login", "updated_at", "token_version", "session_version"],
)
auditlog.register(Customer, exclude_fields=["updated_at"])
auditlog.register(Address, exclude_fields=["updated_at"])
auditlog.register(ApiKey, exclude_fields=["hashed_key", "last_used_at", "last_used_ip"])
