"""Log in, refresh, log out, password reset; every step written to the auth audit log.

Tokens: every refresh token carries ``fam``, the id of its rotation chain (the jti of the
chain's first token), and access and refresh tokens carry ``ver``, the user's token version,
plus simplejwt's password fingerprint. A rotated (blacklisted) refresh token presented again
revokes the whole chain and raises the token version (theft detection: the access tokens the
chain gave end at once); logout and password reset raise the token version too, which ends
every access token issued before.
"""

from __future__ import annotations

import contextlib
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from apps.accounts import lockout
from apps.accounts.authentication import (
    COMPANY_REFUSALS,
    TOKEN_FAMILY_CLAIM,
    TOKEN_VERSION_CLAIM,
    account_refusal,
)
from apps.accounts.models import AuthEvent, Customer, CustomerStatus, SmsLoginCode, User
from apps.accounts.services.alerts import staff_alert
from apps.accounts.throttling import AccountEmailThrottle
from apps.accounts.tokens import invitation_token_generator
from apps.accounts.two_factor import two_factor_applies
from apps.core.exceptions import NotAllowed, NotAuthenticated, ValidationError
from apps.core.links import back_office_link
from apps.core.text import email_typed
from apps.notifications.services import (
    customer_language,
    email_notify,
    notify_customer_users,
    sms_notify,
)


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
    claims = {
        "email": user.email,
        "role": user.role or ("staff" if user.is_staff else ""),
        "customer_id": user.customer_id,
        TOKEN_VERSION_CLAIM: user.token_version,
    }
    if jwt_settings.CHECK_REVOKE_TOKEN:
        claims[jwt_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
    return claims


def tokens_for(user: User, *, family: str | None = None) -> dict[str, str]:
    """A new access and refresh pair; the refresh token continues the chain ``family`` or,
    at login, starts one. Recorded as outstanding with all its claims (as simplejwt's
    ``for_user`` does, but after the claims are set)."""
    refresh = RefreshToken()
    refresh[jwt_settings.USER_ID_CLAIM] = str(user.pk)
    for claim, value in token_claims(user).items():
        refresh[claim] = value
    refresh[TOKEN_FAMILY_CLAIM] = family or refresh[jwt_settings.JTI_CLAIM]
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[jwt_settings.JTI_CLAIM],
        token=str(refresh),
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _family_of(payload: dict) -> str:
    # tokens issued before chains were tracked are a chain of their own
    return str(payload.get(TOKEN_FAMILY_CLAIM) or payload.get(jwt_settings.JTI_CLAIM))


def token_family_revoke(*, user_id, family: str) -> int:
    """Blacklist every live refresh token of the chain ``family``. Only the chain's newest
    token is normally still live (rotation blacklisted the others), so this reads the few
    live tokens of the user and keeps those of the chain."""
    live = OutstandingToken.objects.filter(
        user_id=user_id, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    doomed = []
    for outstanding in live:
        try:
            payload = token_backend.decode(outstanding.token, verify=False)
        except TokenBackendError:
            continue
        if _family_of(payload) == family:
            doomed.append(BlacklistedToken(token=outstanding))
    BlacklistedToken.objects.bulk_create(doomed, ignore_conflicts=True)
    return len(doomed)


def token_version_bump(*, user: User) -> None:
    """End every access token issued to ``user`` so far (checked on each request)."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])


def auth_login(
    *, email: str, password: str, ip: str | None, user_agent: str = "", sms_code: str = ""
) -> dict:
    """The API's sign-in: JWT tokens for good credentials (``auth_check_credentials``)."""
    user = auth_check_credentials(
        email=email, password=password, ip=ip, user_agent=user_agent, sms_code=sms_code
    )
    return tokens_for(user)


def auth_check_credentials(
    *, email: str, password: str, ip: str | None, user_agent: str = "", sms_code: str = ""
) -> User:
    """Sign-in for every channel (the API's tokens, the portal's session): the lockout rules,
    the same answer for an unknown e-mail and a wrong password, the account's own refusals
    (inactive, company not approved), and the auth log. ``NotAuthenticated`` otherwise.

    A user who asked for an SMS code at sign-in (``sms_login``) needs one more step: without
    ``sms_code`` a code is sent to their phone and the answer is ``NotAuthenticated`` with
    code ``sms_code_required``; with it, the code must be the one sent (``sms_code_check``)."""
    user = auth_check_password(email=email, password=password, ip=ip, user_agent=user_agent)
    refuse_staff_with_two_factor(user=user, ip=ip, user_agent=user_agent)
    if sms_login_required(user):
        if not sms_code:
            raise sms_code_send(user=user)
        sms_code_check(user=user, code=sms_code, ip=ip, user_agent=user_agent)
    return login_complete(user=user, ip=ip, user_agent=user_agent)


_PASSWORD_CHECK_LOCK = 0x6C6F6769 << 32  # advisory lock key space ("logi"); low half: the user


@contextlib.contextmanager
def one_password_check_at_a_time(user: User | None):
    """An account's password is checked by one request at a time, from the lockout's look to
    the failure's count: parallel tries each looked before any was counted, so 20 at once had
    10 passwords checked where the lockout allows 5. A session's advisory lock on PostgreSQL
    (a lost connection frees it); the demo's SQLite runs one request at a time anyway."""
    if user is None or connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_PASSWORD_CHECK_LOCK | user.pk])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_PASSWORD_CHECK_LOCK | user.pk])
        except DatabaseError:
            # a transaction an error aborted cannot run it: ending the session frees the lock,
            # which a kept connection would otherwise hold for the account's next logins
            connection.close()


def auth_check_password(*, email: str, password: str, ip: str | None, user_agent: str) -> User:
    """The first step of a sign-in: the lockouts, the password, the account's refusals."""
    typed = email_typed(email)  # a Turkish caps lock's VİEWER@ is viewer@
    user = (
        User.objects.select_related("customer")
        .filter(email__iexact=typed)
        .order_by("is_deleted", "-pk")  # the live account before a removed one
        .first()
    )
    email = lockout.login_email(typed, user)  # the account's own address when one matched
    with one_password_check_at_a_time(user):
        login_refuse_when_locked(email=email, ip=ip, user_agent=user_agent)
        if user is None:
            User().set_password(password or "")  # spend the hashing time anyway: no timing leak
            password_ok = False
        else:
            password_ok = user.check_password(password or "")
        if user is None or not password_ok:
            login_failure_record(
                email=email, user=user, ip=ip, user_agent=user_agent, detail="bad credentials"
            )
            raise NotAuthenticated(
                _("No active account found with the given credentials."),
                code="invalid_credentials",
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
        raise account_refused(refusal)
    return user


def account_refused(refusal: tuple[str, str]) -> Exception:
    """The error for an account refusal after the right credentials: about the company
    (pending, suspended, not verified) 403, authenticated and not allowed, as a request with a
    good token of that company; about the person (switched off) 401."""
    code, message = refusal
    if code in COMPANY_REFUSALS:
        return NotAllowed(message, code=code)
    return NotAuthenticated(message, code=code)


def refuse_staff_with_two_factor(*, user: User, ip: str | None, user_agent: str = "") -> None:
    """Staff whose sign-in needs a second factor (``apps.accounts.two_factor``) get no API
    tokens: the dealer API holds nothing for staff, and a password alone must not be enough
    for any token of theirs. They use the back office."""
    if not two_factor_applies(user):
        return
    auth_event_record(
        kind=AuthEvent.Kind.LOGIN_FAILED,
        email=user.email,
        user=user,
        ip=ip,
        user_agent=user_agent,
        detail="refused: staff with two-factor sign-in",
    )
    raise NotAuthenticated(
        _(
            "Staff accounts with two-factor sign-in get no API tokens: sign in to the back "
            "office instead."
        ),
        code="two_factor_staff",
    )


def login_refuse_when_locked(*, email: str, ip: str | None, user_agent: str) -> None:
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


def login_failure_record(
    *, email: str, user: User | None, ip: str | None, user_agent: str, detail: str
):
    """A failed sign-in step: counted towards the lockouts and logged."""
    newly_locked = lockout.register_failure(email=email, ip=ip)
    auth_event_record(
        kind=AuthEvent.Kind.LOGIN_FAILED,
        email=email,
        user=user,
        ip=ip,
        user_agent=user_agent,
        detail=detail,
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


def login_complete(*, user: User, ip: str | None, user_agent: str = "") -> User:
    """Every sign-in step passed: the failures are forgotten, the login recorded."""
    lockout.register_success(email=user.email)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    auth_event_record(kind=AuthEvent.Kind.LOGIN, user=user, ip=ip, user_agent=user_agent)
    return user


# --- the SMS code at sign-in --------------------------------------------------------------------

SMS_CODE_SECONDS = 300  # a code is good for 5 minutes
SMS_CODE_TRIES = 5  # wrong codes before it is void (each also counts towards the lockout)
SMS_RESEND_SECONDS = 60  # a new sign-in within a minute does not send another SMS


def sms_login_required(user: User) -> bool:
    return bool(user.sms_login)


def _sms_digest(user: User, code: str) -> str:
    return salted_hmac("auth.sms", f"{user.pk}:{code}", algorithm="sha256").hexdigest()


def phone_hint(user: User) -> str:
    digits = "".join(ch for ch in user.phone or "" if ch.isdigit())
    return digits[-2:]


def sms_code_send(*, user: User) -> NotAuthenticated:
    """Send ``user`` a new 6-digit code (unless one went out less than a minute ago) and
    answer the ``NotAuthenticated`` that asks for it. Only a digest of the code is kept, in
    the database (not the cache: a sign-in must not depend on it), for SMS_CODE_SECONDS; a user
    without a usable phone number cannot sign in."""
    now = timezone.now()
    pending = SmsLoginCode.objects.filter(user=user).first()
    fresh = pending and (now - pending.sent_at).total_seconds() < SMS_RESEND_SECONDS
    if not fresh:
        code = f"{secrets.randbelow(1_000_000):06d}"
        try:
            sms_notify(
                template="otp",
                to=user.phone,
                context={"code": code, "minutes": SMS_CODE_SECONDS // 60},
                user=user,
            )
        except ValueError:  # no phone number we can send to
            return NotAuthenticated(
                _(
                    "Your account asks for an SMS code, but has no mobile number to send it "
                    "to. Ask your company's owner to add one."
                ),
                code="sms_phone_missing",
            )
        SmsLoginCode.objects.update_or_create(
            user=user, defaults={"digest": _sms_digest(user, code), "sent_at": now, "tries": 0}
        )
    return NotAuthenticated(
        _("We sent a sign-in code by SMS to your phone ending in %(end)s. Enter it to continue.")
        % {"end": phone_hint(user)},
        code="sms_code_required",
    )


def sms_code_check(*, user: User, code: str, ip: str | None, user_agent: str = "") -> None:
    """The code sent to ``user``, or ``NotAuthenticated``. A wrong code counts as a failed
    login (the lockout rules apply); after SMS_CODE_TRIES wrong codes the code is void."""
    login_refuse_when_locked(email=user.email, ip=ip, user_agent=user_agent)
    given = "".join(str(code or "").split())
    with transaction.atomic():
        # locked: two guesses at once count as two tries
        pending = SmsLoginCode.objects.select_for_update().filter(user=user).first()
        if pending is None:
            outcome = "expired"
        elif (timezone.now() - pending.sent_at).total_seconds() > SMS_CODE_SECONDS:
            pending.delete()
            outcome = "expired"
        elif constant_time_compare(_sms_digest(user, given), pending.digest):
            pending.delete()
            outcome = "right"
        else:
            pending.tries += 1
            if pending.tries >= SMS_CODE_TRIES:
                pending.delete()
                outcome = "void"
            else:
                pending.save(update_fields=["tries"])
                outcome = "wrong"
    if outcome == "right":
        return
    if outcome == "expired":
        raise NotAuthenticated(
            _("The SMS code has expired. Sign in again for a new one."), code="sms_code_expired"
        )
    login_failure_record(
        email=user.email, user=user, ip=ip, user_agent=user_agent, detail=lockout.SMS_CODE_FAILURE
    )
    if outcome == "void":
        raise NotAuthenticated(
            _("Too many wrong codes. Sign in again for a new one."), code="sms_code_expired"
        )
    raise NotAuthenticated(_("This code is not right."), code="sms_code_invalid")


def _invalid_token(exc: Exception | None = None) -> NotAuthenticated:
    return NotAuthenticated(_("Token is invalid or expired."), code="token_not_valid")


def _refresh_payload(refresh: str) -> dict:
    """The claims of a well-signed, unexpired refresh token, blacklisted or not."""
    try:
        payload = token_backend.decode(refresh, verify=True)
    except TokenBackendError as exc:
        raise _invalid_token(exc) from exc
    if payload.get(jwt_settings.TOKEN_TYPE_CLAIM) != "refresh" or not payload.get(
        jwt_settings.JTI_CLAIM
    ):
        raise _invalid_token()
    return payload


def auth_refresh(*, refresh: str, ip: str | None, user_agent: str = "") -> dict:
    """Rotate: the presented refresh token is blacklisted and a new pair of the same chain
    issued, with claims read afresh from the user. A token already rotated (or logged out)
    presented again answers 401 and revokes its whole chain: either the client or a thief
    holds a stolen copy, and the newest token of the chain may be the thief's."""
    payload = _refresh_payload(refresh)
    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update()
            .filter(jti=payload[jwt_settings.JTI_CLAIM])
            .first()
        )
        if outstanding is None:
            raise _invalid_token()
        reused = BlacklistedToken.objects.filter(token=outstanding).exists()
        user = (
            User.objects.select_related("customer")
            .filter(pk=payload.get(jwt_settings.USER_ID_CLAIM))
            .first()
        )
        if user is None:
            raise _invalid_token()
        if reused:
            revoked = token_family_revoke(user_id=user.pk, family=_family_of(payload))
            # the access tokens the chain gave (maybe a thief's) end now too, as at logout;
            # the user's other sessions get new ones by refreshing
            token_version_bump(user=user)
            auth_event_record(
                kind=AuthEvent.Kind.TOKEN_REUSE,
                user=user,
                ip=ip,
                user_agent=user_agent,
                detail=f"chain revoked ({revoked} live token(s))",
            )
        else:
            claim = jwt_settings.REVOKE_TOKEN_CLAIM
            if jwt_settings.CHECK_REVOKE_TOKEN and payload.get(claim) != get_md5_hash_password(
                user.password
            ):
                raise _invalid_token()  # the password changed since the chain began
            refusal = account_refusal(user)
            if refusal:
                raise account_refused(refusal)
            refuse_staff_with_two_factor(user=user, ip=ip, user_agent=user_agent)
            BlacklistedToken.objects.create(token=outstanding)
            auth_event_record(
                kind=AuthEvent.Kind.TOKEN_REFRESH, user=user, ip=ip, user_agent=user_agent
            )
            return tokens_for(user, family=_family_of(payload))
    # outside the transaction: the chain stays revoked although the answer is an error
    raise _invalid_token()


@transaction.atomic
def auth_logout(*, refresh: str, ip: str | None, user_agent: str = "") -> None:
    """The refresh token stops working and every access token of the user issued so far
    too (other sessions keep their refresh tokens and simply refresh)."""
    payload = _refresh_payload(refresh)
    outstanding = (
        OutstandingToken.objects.select_for_update()
        .filter(jti=payload[jwt_settings.JTI_CLAIM])
        .first()
    )
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise _invalid_token()
    BlacklistedToken.objects.create(token=outstanding)
    user = User.objects.filter(pk=payload.get(jwt_settings.USER_ID_CLAIM)).first()
    if user is not None:
        token_version_bump(user=user)
    auth_event_record(kind=AuthEvent.Kind.LOGOUT, user=user, ip=ip, user_agent=user_agent)


def tokens_revoke_all(*, user: User) -> int:
    """End every session of the user now: live refresh tokens are blacklisted and the token
    version raised, so access tokens stop working at once too, and the session version, so
    browser sessions are logged out (the caller keeps its own with
    ``update_session_auth_hash``)."""
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
        blacklistedtoken__isnull=False
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=t) for t in live], ignore_conflicts=True
    )
    # the access tokens, and the browser sessions (portal, back office: the session hash)
    User.objects.filter(pk=user.pk).update(
        token_version=F("token_version") + 1, session_version=F("session_version") + 1
    )
    user.refresh_from_db(fields=["token_version", "session_version"])
    return len(live)


def password_reset_deliver(*, email: str, ip: str | None, user_agent: str = "") -> bool:
    """The queued half of a reset request (``accounts.password_reset_send``): e-mail a
    time-limited link when the address belongs to an active user and has not had
    PASSWORD_RESET_PER_ADDRESS e-mails already. True when a link was queued."""
    email = email_typed(email)
    user = User.objects.filter(email__iexact=email, is_active=True, is_deleted=False).first()
    allowed = AccountEmailThrottle(email, scope="password_reset").allows_another()
    if user is None:
        detail = "unknown or inactive e-mail"
    elif not allowed:
        detail = "not sent: per-address limit"
    else:
        detail = ""
    auth_event_record(
        kind=AuthEvent.Kind.PASSWORD_RESET_REQUESTED,
        email=email,
        user=user,
        ip=ip,
        user_agent=user_agent,
        detail=detail,
    )
    if user is None or not allowed:
        return False
    password_link_send(user=user)
    return True


def password_link_send(*, user: User, invite: bool = False) -> None:
    """E-mail ``user`` a link to choose a password: a reset (valid PASSWORD_RESET_TIMEOUT
    seconds), or the invitation of a new company user (INVITATION_TIMEOUT). Sent after the
    transaction commits."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    generator = invitation_token_generator if invite else default_token_generator
    token = generator.make_token(user)
    lifetime = settings.INVITATION_TIMEOUT if invite else settings.PASSWORD_RESET_TIMEOUT
    email_notify(
        template="accounts/invitation" if invite else "accounts/password_reset",
        to=user.email,
        user=user,
        context={
            "link": f"{settings.PASSWORD_RESET_URL}?uid={uid}&token={token}",
            "minutes": lifetime // 60,
            "days": max(lifetime // 86400, 1),
        },
    )


def email_change_notify(*, user: User, old_email: str) -> None:
    """Tell the old address that staff changed the account's sign-in e-mail (sent after the
    transaction commits): a change its owner did not ask for is a takeover they can report
    before a password reset link reaches the new address."""
    email_notify(
        template="accounts/email_changed",
        to=old_email,
        user=user,
        context={"old_email": old_email, "new_email": user.email},
    )


def user_from_uid(uid: str) -> User | None:
    """The live user an e-mailed link's ``uid`` names (urlsafe base64 of the pk), or None."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        return None
    return User.objects.filter(pk=pk, is_deleted=False).first()


def email_verified(*, user: User, ip: str | None, user_agent: str = "") -> None:
    """A link e-mailed to ``user`` was followed: their address is proven. A registration
    waiting for it (its company ``unverified``) enters the staff approval queue (``pending``)
    with its notice, whichever link it was: the verification link, or a password reset asked
    before it (the reset changed what the verification link was signed with, and it no longer
    worked: the company waited for a link that could not come, and was deleted)."""
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at", "updated_at"])
    auth_event_record(kind=AuthEvent.Kind.EMAIL_VERIFIED, user=user, ip=ip, user_agent=user_agent)
    if user.customer_id is None:
        return
    customer = Customer.objects.select_for_update().filter(pk=user.customer_id).first()
    if customer is None or customer.status != CustomerStatus.UNVERIFIED:
        return
    customer.status = CustomerStatus.PENDING
    customer.save(update_fields=["status", "updated_at"])
    notify_customer_users(
        customer=customer,
        template="accounts/registration_received",
        language=customer_language(customer),
    )
    staff_alert(
        customer=customer,
        permission="accounts.approve_customer",
        template="accounts/registration_waiting",
        context=lambda: {
            "company_name": customer.name,
            "tax_number": customer.tax_number,
            "owner_email": user.email,
            "back_office_url": back_office_link("admin:accounts_customer_change", customer.pk),
        },
    )


@transaction.atomic
def password_reset_confirm(
    *, uid: str, token: str, new_password: str, ip: str | None, user_agent: str = ""
) -> User:
    user = user_from_uid(uid)
    if user is not None:
        # the link is checked under the user's lock: it holds the password it was made from,
        # so once one request set a new one, a parallel one with the same link finds it used
        # (8 at once each set a password: "a link works once")
        user = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
    # a switched-off user's link sets nothing: whoever holds it would hold the account the
    # day it is switched on again
    # a reset link, or a new company user's invitation (the same page, a longer life)
    valid = user is not None and any(
        generator.check_token(user, token)
        for generator in (default_token_generator, invitation_token_generator)
    )
    if user is None or not user.is_active or not valid:
        raise ValidationError({"token": [_("This reset link is invalid or has expired.")]})
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    if user.email_verified_at is None:  # the link reached the address
        email_verified(user=user, ip=ip, user_agent=user_agent)
    tokens_revoke_all(user=user)
    lockout.unlock_account(user.email)
    auth_event_record(
        kind=AuthEvent.Kind.PASSWORD_RESET_DONE, user=user, ip=ip, user_agent=user_agent
    )
    return user


def password_change(
    *, user: User, old_password: str, new_password: str, ip: str | None, user_agent: str = ""
) -> User:
    """A signed-in user changes their password: the current one must be right and the new one
    pass the password validators. Every API token of the user stops working (other devices
    sign in again); the caller keeps its own browser session."""
    if not user.check_password(old_password or ""):
        raise ValidationError({"old_password": [_("Your current password is not right.")]})
    try:
        validate_password(new_password or "", user=user)
    except DjangoValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    tokens_revoke_all(user=user)
    auth_event_record(kind=AuthEvent.Kind.PASSWORD_CHANGED, user=user, ip=ip, user_agent=user_agent)
    return user
