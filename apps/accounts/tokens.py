"""E-mailed links with Django's password-reset token scheme, each with its own salt and
lifetime: the registration's (void once the address is verified) and a new company user's
invitation (void once a password is chosen, as a reset link)."""

from __future__ import annotations

from copy import copy

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class _LifetimeTokenGenerator(PasswordResetTokenGenerator):
    """Django's token, living the seconds the setting ``lifetime_setting`` names instead of
    PASSWORD_RESET_TIMEOUT."""

    lifetime_setting = "PASSWORD_RESET_TIMEOUT"

    def check_token(self, user, token) -> bool:
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        lifetime = getattr(settings, self.lifetime_setting)
        return (self._num_seconds(self._now()) - ts) <= lifetime


class InvitationTokenGenerator(_LifetimeTokenGenerator):
    """A new company user's link to choose a first password: INVITATION_TIMEOUT (days, not
    a reset link's hour: an invitation is read when its reader comes to it). Django's hash
    (the password, the last login): void once a password is chosen."""

    key_salt = "apps.accounts.tokens.InvitationTokenGenerator"
    lifetime_setting = "INVITATION_TIMEOUT"


class EmailVerificationTokenGenerator(_LifetimeTokenGenerator):
    key_salt = "apps.accounts.tokens.EmailVerificationTokenGenerator"
    lifetime_setting = "REGISTRATION_VERIFY_TIMEOUT"

    def _make_hash_value(self, user, timestamp) -> str:
        # verifying sets email_verified_at, so a used link stops working; a changed address too
        verified = "" if user.email_verified_at is None else user.email_verified_at.isoformat()
        return f"{user.pk}{user.email}{verified}{timestamp}"

    def check_token_used(self, user, token) -> bool:
        """A link this generator made before the address was verified (by this link, or by a
        password reset link that reached the address), still within its lifetime: the link
        was good, and what it asked for is done."""
        if user is None or user.email_verified_at is None:
            return False
        before = copy(user)
        before.email_verified_at = None
        return self.check_token(before, token)


email_verification_token_generator = EmailVerificationTokenGenerator()
invitation_token_generator = InvitationTokenGenerator()
