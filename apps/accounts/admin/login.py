"""The back office's login form: Django's, but a locked-out account or address is told so
(with how long), as the portal and the API tell it; Django's form said the password was wrong,
even when it was right."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class StaffLoginForm(AdminAuthenticationForm):
    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            seconds = getattr(self.request, "login_locked_seconds", None)
            if seconds:
                raise ValidationError(
                    _("Too many failed logins. Try again in %(minutes)d minutes.")
                    % {"minutes": max(1, (seconds + 59) // 60)},
                    code="locked",
                ) from None
            raise


admin.site.login_form = StaffLoginForm
