"""How callers prove who they are: people with JWTs, systems with API keys."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from apps.accounts.models import ApiKey, Customer, CustomerStatus, User
from apps.core.audit import audit_set_actor
from apps.core.net import client_ip

API_KEY_HEADER = "X-API-Key"
API_KEY_PREFIX = "b2b_"
TOKEN_VERSION_CLAIM = "ver"  # noqa: S105 - a claim name; the user's token_version when the token was issued
TOKEN_FAMILY_CLAIM = "fam"  # noqa: S105 - a claim name; the rotation chain of a refresh token


def account_refusal(user: User) -> tuple[str, str] | None:
    """(code, message) when this user may not use the API now, else None."""
    if not user.is_active or user.is_deleted:
        return "user_inactive", _("This account is inactive.")
    customer = user.customer
    if customer is not None:
        if customer.is_deleted:
            return "customer_inactive", _("This company is no longer active.")
        if customer.status == CustomerStatus.UNVERIFIED:
            return "email_unverified", _(
                "Confirm your e-mail address first: open the link we e-mailed you."
            )
        if customer.status == CustomerStatus.PENDING:
            return "customer_pending", _("This company is waiting for approval.")
        if customer.status == CustomerStatus.SUSPENDED:
            return "customer_suspended", _("This company is suspended.")
        if customer.status != CustomerStatus.ACTIVE:
            return "customer_inactive", _("This company is not active.")
    return None


# account refusals that are about the company, not the person's credentials
COMPANY_REFUSALS = frozenset(
    {"email_unverified", "customer_pending", "customer_suspended", "customer_inactive"}
)


def token_revocation(user: User, token) -> tuple[str, str] | None:
    """(code, message) when ``token`` was issued before the user's last logout, session
    revocation or password change, else None."""
    if token.get(TOKEN_VERSION_CLAIM, 0) != user.token_version:
        return "token_revoked", _("This session has ended. Log in again.")
    if jwt_settings.CHECK_REVOKE_TOKEN and token.get(
        jwt_settings.REVOKE_TOKEN_CLAIM
    ) != get_md5_hash_password(user.password):
        return "password_changed", _("The password has changed. Log in again.")
    return None


# The user of a request with the company and the names of all the user's permissions (own and
# through groups): the columns come from the models, the tables are Django's and ours.
_USER_SQL = """
SELECT {user_columns}, {customer_columns}, ARRAY(
    SELECT ct.app_label || '.' || p.codename
    FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
    WHERE p.id IN (
        SELECT up.permission_id FROM accounts_user_user_permissions up WHERE up.user_id = u.id
        UNION ALL
        SELECT gp.permission_id FROM auth_group_permissions gp
        JOIN accounts_user_groups ug ON ug.group_id = gp.group_id WHERE ug.user_id = u.id
    )
)
FROM accounts_user u LEFT JOIN accounts_customer c ON c.id = u.customer_id
WHERE u.id = %s
"""


class _UserLoader:
    """Loads the user of a request in one query (``_USER_SQL``) whose text is built once per
    process: the ORM would compile the same query again on every request, which costs more CPU
    than the rest of a small request. PostgreSQL only (``ARRAY``)."""

    def __init__(self, db):
        # only the SQL text and the converters are kept: a connection (``db``) belongs to its
        # thread, so ``load`` is given the caller's own each time
        self.user_fields = list(User._meta.concrete_fields)
        self.customer_fields = list(Customer._meta.concrete_fields)
        self.sql = _USER_SQL.format(
            user_columns=", ".join(f"u.{db.ops.quote_name(f.column)}" for f in self.user_fields),
            customer_columns=", ".join(
                f"c.{db.ops.quote_name(f.column)}" for f in self.customer_fields
            ),
        )
        self.converters = [
            (index, converters)
            for index, field in enumerate(self.user_fields + self.customer_fields)
            if (
                converters := db.ops.get_db_converters(field.get_col(field.model._meta.db_table))
                + field.get_db_converters(db)
            )
        ]

    def load(self, db, user_id: int) -> User | None:
        with db.cursor() as cursor:
            cursor.execute(self.sql, [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        fields = self.user_fields + self.customer_fields
        for index, converters in self.converters:
            for convert in converters:
                values[index] = convert(values[index], fields[index], db)
        split = len(self.user_fields)
        user = User.from_db(db.alias, [f.attname for f in self.user_fields], values[:split])
        customer = None
        if user.customer_id is not None:
            customer = Customer.from_db(
                db.alias,
                [f.attname for f in self.customer_fields],
                values[split : split + len(self.customer_fields)],
            )
        User.customer.field.set_cached_value(user, customer)
        if user.is_active and not user.is_superuser:
            # where ModelBackend keeps what get_all_permissions() and has_perm() read; a
            # superuser has every permission (ModelBackend answers), an inactive user none
            user._perm_cache = set(values[-1])
        return user


_loaders: dict[str, _UserLoader] = {}


def user_load_for_request(user_id) -> User | None:
    """The user of a token, with the company and the permissions, in one query."""
    try:
        user_id = User._meta.pk.to_python(user_id)
    except DjangoValidationError:
        return None
    db = connections[router.db_for_read(User)]
    if db.vendor != "postgresql":
        return User.objects.select_related("customer").filter(pk=user_id).first()
    loader = _loaders.get(db.alias)
    if loader is None:
        loader = _loaders[db.alias] = _UserLoader(db)
    return loader.load(db, user_id)


class DealerJWTAuthentication(JWTAuthentication):
    """Bearer JWT. The user and company are re-checked on every request, so an access token
    stops working as soon as the user is deactivated or the company suspended, and so does
    every access token issued before a logout or a password change (the ``ver`` claim and
    the password fingerprint, checked against the user row read anyway). That one query also
    brings the user's permissions, which the permission checks and ``/me`` then read."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            audit_set_actor(result[0])
        return result

    def get_raw_token(self, header: bytes):
        """The scheme's name in any case (RFC 9110: ``bearer`` is ``Bearer``); simplejwt
        compares it as written, so ``bearer <token>`` was "not authenticated"."""
        scheme, _space, rest = header.strip().partition(b" ")
        if scheme.lower() == b"bearer":
            header = b"Bearer " + rest.strip()
        return super().get_raw_token(header)

    def get_validated_token(self, raw_token):
        try:
            return super().get_validated_token(raw_token)
        except (OverflowError, OSError, ValueError, TypeError) as exc:
            # a well-signed token whose ``exp`` is no time (1e20 overflowed into a 500)
            raise exceptions.AuthenticationFailed(
                _("Given token not valid for any token type"), code="token_not_valid"
            ) from exc

    def get_user(self, validated_token):
        try:
            user_id = validated_token[jwt_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise exceptions.AuthenticationFailed(
                _("Token contained no recognizable user identification"), code="token_not_valid"
            ) from exc
        user = user_load_for_request(user_id)
        if user is None:
            raise exceptions.AuthenticationFailed(_("User not found"), code="user_not_found")
        refusal = token_revocation(user, validated_token)
        if refusal:
            raise exceptions.AuthenticationFailed(refusal[1], code=refusal[0])
        refusal = account_refusal(user)
        if refusal and refusal[0] in COMPANY_REFUSALS:
            # the token is good and names its user: authenticated, not allowed (API.md's
            # 403); a 401 sent clients to refresh and log in again, in a loop
            raise exceptions.PermissionDenied(refusal[1], code=refusal[0])
        if refusal:
            raise exceptions.AuthenticationFailed(refusal[1], code=refusal[0])
        return user


def hash_api_key(raw: str) -> str:
    # keys are 256-bit random: a fast hash is safe and keeps every request cheap
    return hashlib.sha256(raw.encode()).hexdigest()


def split_api_key(raw: str) -> str | None:
    """The lookup prefix of a well-formed key ``b2b_<prefix>.<secret>``, else None."""
    if not raw.startswith(API_KEY_PREFIX) or "." not in raw:
        return None
    prefix = raw[len(API_KEY_PREFIX) :].split(".", 1)[0]
    return prefix if 4 <= len(prefix) <= 16 else None


class ApiKeyPrincipal:
    """``request.user`` for a call made with an API key: a system, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    customer = None
    customer_id = None
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key

    def __str__(self) -> str:
        return f"api-key:{self.api_key.name}"

    def has_perm(self, perm, obj=None) -> bool:
        return False


def ip_allowed(api_key: ApiKey, ip: str | None) -> bool:
    if not api_key.allowed_ips:
        return True
    if not ip:
        return False
    address = ipaddress.ip_address(ip)
    for network in api_key.allowed_ips:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


class ApiKeyAuthentication(BaseAuthentication):
    """Header ``X-API-Key``: usable (not revoked, not expired), from an allowed address."""

    def authenticate(self, request):
        raw = request.headers.get(API_KEY_HEADER)
        if not raw:
            return None
        prefix = split_api_key(raw.strip())
        api_key = ApiKey.objects.filter(prefix=prefix).first() if prefix else None
        if api_key is None or not hmac.compare_digest(
            api_key.hashed_key, hash_api_key(raw.strip())
        ):
            raise exceptions.AuthenticationFailed(_("Invalid API key."), code="invalid_api_key")
        if not api_key.is_usable:
            raise exceptions.AuthenticationFailed(
                _("This API key is revoked or expired."), code="api_key_revoked"
            )
        ip = client_ip(request)
        if not ip_allowed(api_key, ip):
            # the key is good, its use from here is not: "authenticated, not allowed"
            raise exceptions.PermissionDenied(
                _("This API key may not be used from this address."), code="ip_not_allowed"
            )
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(seconds=60):
            # at most one write a minute per key
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now, last_used_ip=ip)
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return API_KEY_HEADER


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}


class DealerJWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.DealerJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
