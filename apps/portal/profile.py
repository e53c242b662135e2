"""The signed-in user's own page: their details and company, marketing consent (given or
withdrawn, each change kept), a new password, and their personal data as a JSON download
(KVKK / GDPR), the same export as the API's ``me/export``."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.api.serializers import PersonalDataExportSerializer
from apps.accounts.models import Consent
from apps.accounts.selectors import personal_data
from apps.accounts.services.auth import password_change
from apps.accounts.services.consents import consent_current, consent_record
from apps.accounts.services.users import user_sms_login_set
from apps.core.exceptions import DomainError
from apps.core.net import client_ip
from apps.portal.views import PortalView


class ProfileView(PortalView):
    def _context(self, **extra):
        user = self.request.user
        return {
            "consents": [
                (Consent.Kind(kind).label, consent)
                for kind, consent in consent_current(user=user).items()
            ],
            "marketing": consent_current(user=user)[Consent.Kind.MARKETING],
            **extra,
        }

    def get(self, request):
        return self.page("profile.html", **self._context())

    def post(self, request):
        user = request.user
        if request.POST.get("action") == "sms":
            try:
                user_sms_login_set(
                    user=user,
                    enabled=request.POST.get("sms_login") == "on",
                    phone=request.POST.get("phone", ""),
                )
            except DomainError as exc:
                return render(
                    request,
                    "portal/profile.html",
                    self._context(errors=exc.errors or {}),
                    status=exc.status_code,
                )
            messages.success(
                request,
                _("From now on you sign in with your password and a code sent by SMS.")
                if user.sms_login
                else _("You sign in with your password alone."),
            )
            return HttpResponseRedirect(reverse("portal:profile"))
        if request.POST.get("action") == "marketing":
            granted = request.POST.get("granted") == "true"
            consent_record(
                user=user, kind=Consent.Kind.MARKETING, granted=granted, ip=client_ip(request)
            )
            messages.success(
                request,
                _("You will receive our campaign messages.")
                if granted
                else _("You will no longer receive campaign messages."),
            )
            return HttpResponseRedirect(reverse("portal:profile"))
        try:
            password_change(
                user=user,
                old_password=request.POST.get("old_password", ""),
                new_password=request.POST.get("new_password", ""),
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:255],
            )
        except DomainError as exc:
            return render(
                request,
                "portal/profile.html",
                self._context(errors=exc.errors or {}),
                status=exc.status_code,
            )
        update_session_auth_hash(request, user)  # this browser stays signed in
        messages.success(request, _("Your password is changed."))
        return HttpResponseRedirect(reverse("portal:profile"))


class PersonalDataView(PortalView):
    """The API's ``me/export`` as a file: the user, their consents and sign-in events."""

    def get(self, request):
        data = PersonalDataExportSerializer(personal_data(user=request.user)).data
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="personal-data.json"'
        response["Cache-Control"] = "private, no-store"
        return response
