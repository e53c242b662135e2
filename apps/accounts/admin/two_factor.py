"""The back office's two-factor pages, under /admin/two-factor/ (``two_factor_urls``).

After the admin's password login, ``StaffTwoFactorMiddleware`` sends a staff session that needs
a code here: ``verify`` (the authenticator's code or a recovery code) or, for a role that
requires two-factor sign-in and has no authenticator yet, ``setup`` (QR code and secret, the
first code, then the recovery codes, shown once). ``manage`` (linked from the user links) turns
it on or off and makes new recovery codes. The rules are the services'
(``apps.accounts.services.two_factor``); these views collect input and show the answer.
"""

from __future__ import annotations

from urllib.parse import urlencode

import django_otp
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.services import two_factor as services
from apps.accounts.two_factor import two_factor_state
from apps.core.exceptions import DomainError, NotAuthenticated
from apps.core.net import client_ip, user_agent

TEMPLATES = "admin/two_factor"

# django-otp's own device screens are not offered: they would let an admin make a device with a
# chosen secret for someone else. A lost phone is the users admin's "Reset two-factor sign-in".
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "none"}
        ),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=16,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


# --- helpers ------------------------------------------------------------------------------------


def _context(request, title: str, *, signed_in: bool, **extra) -> dict:
    """The admin's page context; before the code no app list, sidebar or user links."""
    context = {**admin.site.each_context(request), "title": title, **extra}
    if not signed_in:
        context.update(available_apps=[], is_nav_sidebar_enabled=False, has_permission=False)
    return context


def _next(request) -> str:
    wanted = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if wanted and safe else reverse("admin:index")


def _meta(request) -> dict:
    return {"ip": client_ip(request), "user_agent": user_agent(request)}


def _verified(request) -> bool:
    check = getattr(request.user, "is_verified", None)
    return bool(check and check())


def staff_only(view):
    """Signed-in active staff, else the admin's login page (which comes back here)."""

    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            login = reverse("admin:login")
            query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
            return HttpResponseRedirect(f"{login}?{query}")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return never_cache(csrf_protect(wrapped))


def _mark_verified(request, device) -> None:
    """This session (only this one) passed the two-factor step; a new session key, since the
    session now opens more than it did."""
    request.session.cycle_key()
    django_otp.login(request, device)


def _codes_page(request, codes: list[str], *, continue_url: str, first: bool):
    return TemplateResponse(
        request,
        f"{TEMPLATES}/recovery_codes.html",
        _context(
            request,
            _("Your recovery codes"),
            signed_in=True,
            codes=codes,
            continue_url=continue_url,
            first=first,
        ),
    )


# --- the steps ----------------------------------------------------------------------------------


@staff_only
@require_http_methods(["GET", "POST"])
def verify(request):
    """The code from the authenticator app, or a recovery code."""
    state = two_factor_state(request.user)
    if _verified(request) or not state.enrolled:
        target = "setup" if state.required and not state.enrolled else None
        return HttpResponseRedirect(
            f"{reverse('staff_two_factor:setup')}?{urlencode({'next': _next(request)})}"
            if target
            else _next(request)
        )
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            device = services.two_factor_verify(
                user=request.user, code=form.cleaned_data["code"], **_meta(request)
            )
        except DomainError as exc:
            error = exc.detail
        else:
            _mark_verified(request, device)
            if device.persistent_id.startswith("otp_static."):
                left = services.recovery_codes_left(user=request.user)
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a recovery code: %(left)d is left. Make new ones "
                        "on the two-factor page.",
                        "You signed in with a recovery code: %(left)d are left. Make new ones "
                        "on the two-factor page.",
                        left,
                    )
                    % {"left": left},
                )
            return HttpResponseRedirect(_next(request))
    return TemplateResponse(
        request,
        f"{TEMPLATES}/verify.html",
        _context(
            request,
            _("Two-factor sign-in"),
            signed_in=False,
            form=form,
            error=error,
            next=_next(request),
        ),
    )


@staff_only
@require_http_methods(["GET", "POST"])
def setup(request):
    """Set up an authenticator app: the QR code and the secret, then its first code."""
    state = two_factor_state(request.user)
    if state.enrolled:
        if _verified(request):
            return HttpResponseRedirect(reverse("staff_two_factor:manage"))
        query = urlencode({"next": _next(request)})
        return HttpResponseRedirect(f"{reverse('staff_two_factor:verify')}?{query}")
    form = EnrolForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.two_factor_enrol(
                user=request.user, code=form.cleaned_data["code"], **_meta(request)
            )
        except DomainError as exc:
            error = exc.detail
        else:
            _mark_verified(request, device)
            return _codes_page(request, codes, continue_url=_next(request), first=True)
    device = services.totp_device_pending(user=request.user)
    return TemplateResponse(
        request,
        f"{TEMPLATES}/setup.html",
        _context(
            request,
            _("Set up two-factor sign-in"),
            signed_in=not state.required,
            form=form,
            error=error,
            next=_next(request),
            required=state.required,
            qr_svg=services.totp_qr_svg(device),
            secret=services.totp_secret(device),
            otpauth_uri=device.config_url,
        ),
    )


def _signed_in_or_step(request):
    """None when this session may manage its two-factor sign-in, else the redirect to its
    step (the same rule as the rest of the back office)."""
    state = two_factor_state(request.user)
    if _verified(request) or not state.applies:
        return None, state
    name = "verify" if state.enrolled else "setup"
    query = urlencode({"next": reverse("staff_two_factor:manage")})
    return HttpResponseRedirect(f"{reverse(f'staff_two_factor:{name}')}?{query}"), state


@staff_only
@require_http_methods(["GET"])
def manage(request):
    """On or off, the recovery codes left; new codes; turning it off where the role allows."""
    redirect, state = _signed_in_or_step(request)
    if redirect:
        return redirect
    return TemplateResponse(
        request,
        f"{TEMPLATES}/manage.html",
        _context(
            request,
            _("Two-factor sign-in"),
            signed_in=True,
            state=state,
            codes_left=services.recovery_codes_left(user=request.user),
            form=CodeForm(),
        ),
    )


@staff_only
@require_POST
def recovery_codes(request):
    """New recovery codes (the old ones stop working), shown once."""
    redirect, _state = _signed_in_or_step(request)
    if redirect:
        return redirect
    try:
        codes = services.recovery_codes_regenerate(user=request.user, **_meta(request))
    except DomainError as exc:
        messages.error(request, exc.detail)
        return HttpResponseRedirect(reverse("staff_two_factor:manage"))
    return _codes_page(request, codes, continue_url=reverse("staff_two_factor:manage"), first=False)


@staff_only
@require_POST
def disable(request):
    """Turn two-factor sign-in off (a current code first), unless the role requires it."""
    redirect, state = _signed_in_or_step(request)
    if redirect:
        return redirect
    form = CodeForm(request.POST)
    try:
        if state.required:
            services.two_factor_disable(user=request.user, **_meta(request))  # refuses
        if not form.is_valid():
            raise NotAuthenticated(_gettext("Enter a current code."))
        services.two_factor_verify(
            user=request.user, code=form.cleaned_data["code"], **_meta(request)
        )
        services.two_factor_disable(user=request.user, **_meta(request))
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _gettext("Two-factor sign-in is off."))
    return HttpResponseRedirect(reverse("staff_two_factor:manage"))
