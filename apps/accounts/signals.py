"""Signals of the accounts domain.

Sent by Django, received here: session logins, logouts and failures (the admin) are written to
the auth audit log, like the API's token logins (which the auth services record themselves).
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.accounts.models import AuthEvent
from apps.accounts.services.auth import auth_event_record
from apps.accounts.two_factor import two_factor_applies
from apps.core.net import client_ip, user_agent


def _record(kind, request, user=None, email="", detail="session"):
    auth_event_record(
        kind=kind,
        user=user,
        email=email,
        ip=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
        detail=detail,
    )


@receiver(user_logged_in, dispatch_uid="accounts-session-login")
def _session_login(sender, request, user, **kwargs):
    # staff with two-factor sign-in are only half-way: the code's step records the login
    verified = getattr(user, "otp_device", None) is not None
    kind = (
        AuthEvent.Kind.LOGIN_PASSWORD
        if not verified and two_factor_applies(user)
        else AuthEvent.Kind.LOGIN
    )
    _record(kind, request, user=user)


@receiver(user_logged_out, dispatch_uid="accounts-session-logout")
def _session_logout(sender, request, user, **kwargs):
    if user is not None:
        _record(AuthEvent.Kind.LOGOUT, request, user=user)


@receiver(user_login_failed, dispatch_uid="accounts-session-login-failed")
def _session_login_failed(sender, credentials, request=None, **kwargs):
    email = str(credentials.get("username") or credentials.get("email") or "")[:254]
    # refused by a lock (the backend says so): recorded, but not counted as a failure
    refused = getattr(request, "login_refused", None) if request is not None else None
    _record(AuthEvent.Kind.LOGIN_FAILED, request, email=email, detail=refused or "session")
