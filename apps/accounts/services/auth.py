"""Log in, refresh, log out, password reset; every step written to the auth audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts import lockout
from apps.accounts.authentication import account_refusal
from apps.accounts.models import AuthEvent, User
from apps.core.exceptions import NotAuthenticated, ValidationError
from apps.notifications.services import email_notify


def auth_event_record(
    *, kind: str, email: str = "", user: User | None = None, ip=None, user_agent="", detail=""
) -> AuthEvent:
    return AuthEvent.objects.create(
        kind=kind,
        user=user,
        email=(email or (user.email if user else ""))[:254],
        ip_address=ip,
        user_agent=user_agent[:500],
        detail=detail[:200],
    )


def token_claims(user: User) -> dict:
    return {
        "email": user.email,
        "role": user.role or ("staff" if user.is_staff else ""),
        "customer_id": user.customer_id,
    }


def tokens_for(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    refresh["sub"] = str(user.pk)
    for claim, value in token_claims(user).items():
        refresh[claim] = value
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def auth_login(*, email: str, password: str, ip: str | None, user_agent: str = "") -> dict:
    email = (email or "").strip().lower()
    locked = lockout.locked_for(email=email, ip=ip)
    if locked:
        kind, seconds = locked
        auth_event_record(
            kind=AuthEvent.Kind.LOGIN_FAILED,
            email=email,
            ip=ip,
            user_agent=user_agent,
            detail=f"refused: {kind} locked",
        )
        raise NotAuthenticated(
            _("Too many failed logins. Try again in %(minutes)d minutes.")
            % {"minutes": max(1, (seconds + 59) // 60)},
            code="account_locked" if kind == "account" else "ip_locked",
            extra={"retry_after": seconds},
            headers={"Retry-After": str(seconds)},
        )

    user = User.objects.select_related("customer").filter(email__iexact=email).first()
    if user is None:
        User().set_password(password or "")  # spend the hashing time anyway: no timing leak
        password_ok = False
    else:
        password_ok = user.check_password(password or "")
    if user is None or not password_ok:
        newly_locked = lockout.register_failure(email=email, ip=ip)
        auth_event_record(
            kind=AuthEvent.Kind.LOGIN_FAILED,
            email=email,
            user=user,
            ip=ip,
            user_agent=user_agent,
            detail="bad credentials",
        )
        for what in newly_locked:
            auth_event_record(
                kind=AuthEvent.Kind.LOCKOUT,
                email=email if what == "account" else "",
                user=user if what == "account" else None,
                ip=ip,
                user_agent=user_agent,
                detail=f"{what} locked",
            )
        raise NotAuthenticated(
            _("No active account found with the given credentials."), code="invalid_credentials"
        )

    refusal = account_refusal(user)
    if refusal:
        auth_event_record(
            kind=AuthEvent.Kind.LOGIN_FAILED,
            email=email,
            user=user,
            ip=ip,
            user_agent=user_agent,
            detail=refusal[0],
        )
        raise NotAuthenticated(refusal[1], code=refusal[0])

    lockout.register_success(email=email)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    auth_event_record(kind=AuthEvent.Kind.LOGIN, user=user, ip=ip, user_agent=user_agent)
    return tokens_for(user)


def _invalid_token(exc: Exception | None = None) -> NotAuthenticated:
    return NotAuthenticated(_("Token is invalid or expired."), code="token_not_valid")


@transaction.atomic
def auth_refresh(*, refresh: str, ip: str | None, user_agent: str = "") -> dict:
    """Rotate: the presented refresh token is blacklisted and a new pair issued, with claims
    read afresh from the user. Presenting it again answers 401."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise _invalid_token(exc) from exc
    outstanding = OutstandingToken.objects.select_for_update().filter(jti=token["jti"]).first()
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise _invalid_token()
    user = User.objects.select_related("customer").filter(pk=token.get("sub")).first()
    if user is None:
        raise _invalid_token()
    refusal = account_refusal(user)
    if refusal:
        raise NotAuthenticated(refusal[1], code=refusal[0])
    BlacklistedToken.objects.create(token=outstanding)
    auth_event_record(kind=AuthEvent.Kind.TOKEN_REFRESH, user=user, ip=ip, user_agent=user_agent)
    return tokens_for(user)


def auth_logout(*, refresh: str, ip: str | None, user_agent: str = "") -> None:
    try:
        token = RefreshToken(refresh)
        token.blacklist()
    except TokenError as exc:
        raise _invalid_token(exc) from exc
    user = User.objects.filter(pk=token.get("sub")).first()
    auth_event_record(kind=AuthEvent.Kind.LOGOUT, user=user, ip=ip, user_agent=user_agent)


def tokens_revoke_all(*, user: User) -> int:
    """Blacklist every live refresh token of the user (sessions end at the next refresh)."""
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
        blacklistedtoken__isnull=False
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=t) for t in live], ignore_conflicts=True
    )
    return len(live)


def password_reset_request(*, email: str, ip: str | None, user_agent: str = "") -> None:
    """Send a time-limited reset link when the e-mail belongs to an active user; say nothing
    either way (the caller always answers 202)."""
    email = (email or "").strip().lower()
    user = User.objects.filter(email__iexact=email, is_active=True, is_deleted=False).first()
    auth_event_record(
        kind=AuthEvent.Kind.PASSWORD_RESET_REQUESTED,
        email=email,
        user=user,
        ip=ip,
        user_agent=user_agent,
        detail="" if user else "unknown or inactive e-mail",
    )
    if user is None:
        return
    password_link_send(user=user)


def password_link_send(*, user: User, invite: bool = False) -> None:
    """E-mail ``user`` a link to choose a password (valid PASSWORD_RESET_TIMEOUT seconds):
    a reset, or the invitation of a new company user. Sent after the transaction commits."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    email_notify(
        template="accounts/invitation" if invite else "accounts/password_reset",
        to=user.email,
        user=user,
        context={
            "link": f"{settings.PASSWORD_RESET_URL}?uid={uid}&token={token}",
            "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        },
    )


def _user_from_uid(uid: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        return None
    return User.objects.filter(pk=pk, is_deleted=False).first()


@transaction.atomic
def password_reset_confirm(
    *, uid: str, token: str, new_password: str, ip: str | None, user_agent: str = ""
) -> User:
    user = _user_from_uid(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationError({"token": [_("This reset link is invalid or has expired.")]})
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    tokens_revoke_all(user=user)
    lockout.unlock_account(user.email)
    auth_event_record(
        kind=AuthEvent.Kind.PASSWORD_RESET_DONE, user=user, ip=ip, user_agent=user_agent
    )
    return user
