"""Session logins (the admin) get the same lockout as the API's token endpoint; staff with
two-factor sign-in then give a code (``apps.accounts.services.two_factor``)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from apps.accounts import lockout
from apps.accounts.authentication import user_load_for_request
from apps.accounts.models import AuthEvent
from apps.accounts.services.auth import auth_event_record
from apps.accounts.two_factor import two_factor_applies
from apps.core.net import client_ip, user_agent


class LockoutModelBackend(ModelBackend):
    """E-mail + password, refused while the account or the address is locked out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        typed = (username or kwargs.get("email") or "").strip()
        email = lockout.login_email_lookup(typed) if typed else ""
        ip = client_ip(request) if request is not None else None
        agent = user_agent(request) if request is not None else ""
        locked = lockout.locked_for(email=email, ip=ip) if email else None
        if locked:
            # Django then sends user_login_failed, which the auth log records as refused by
            # the lock: not a failure that counts (else each try while locked, the right
            # password included, would make the lock last longer)
            if request is not None:
                request.login_refused = f"refused: {locked[0]} locked"
                request.login_locked_seconds = locked[1]  # the admin's login form says so
            raise PermissionDenied  # stops the other backends too
        user = super().authenticate(
            request, username=email or username, password=password, **kwargs
        )
        if email and user is None:
            for what in lockout.register_failure(email=email, ip=ip):
                auth_event_record(
                    kind=AuthEvent.Kind.LOCKOUT,
                    email=email if what == "account" else "",
                    ip=ip,
                    user_agent=agent,
                    detail=f"{what} locked (session login)",
                )
        elif user is not None and not two_factor_applies(user):
            # with two-factor sign-in the failures are forgotten after the code, not here
            # (else each password login would give a guesser five more codes)
            lockout.register_success(email=email)
        return user

    def get_user(self, user_id):
        """The session's user with its company and its permissions in one query (the token
        APIs' loader), not three: every portal and admin page asks for them."""
        user = user_load_for_request(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
