"""The e-mailed registration link: Django's password-reset token scheme with its own salt and
lifetime, void once the address is verified."""

from __future__ import annotations

from copy import copy

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "apps.accounts.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp) -> str:
        # verifying sets email_verified_at, so a used link stops working; a changed address too
        verified = "" if user.email_verified_at is None else user.email_verified_at.isoformat()
        return f"{user.pk}{user.email}{verified}{timestamp}"

    def check_token(self, user, token) -> bool:
        """As Django's, with REGISTRATION_VERIFY_TIMEOUT instead of PASSWORD_RESET_TIMEOUT."""
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
        return (self._num_seconds(self._now()) - ts) <= settings.REGISTRATION_VERIFY_TIMEOUT

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
