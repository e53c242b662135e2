"""The back office opens only to sessions that passed the two-factor step where it applies."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse

from apps.accounts.two_factor import two_factor_state

TWO_FACTOR_NAMESPACE = "staff_two_factor"
# what a signed-in staff member whose session still needs its code may open besides the steps
_OPEN_BEFORE_CODE = {"admin:logout"}
# outside the admin, the API documentation when it is open to signed-in staff only
# (``API_DOCS_PUBLIC=0``): a staff session is a pass there only after its code
_STAFF_DOCS = {"schema", "swagger-ui", "redoc"}


def two_factor_step_url(request, state) -> str | None:
    """Where a staff session that has not given its code must go: the code step (an
    authenticator is set up) or the enrolment (required, none yet); None when it may pass."""
    if state.enrolled:
        name = f"{TWO_FACTOR_NAMESPACE}:verify"
    elif state.required:
        name = f"{TWO_FACTOR_NAMESPACE}:setup"
    else:
        return None
    wanted = request.get_full_path() if request.method == "GET" else reverse("admin:index")
    return f"{reverse(name)}?{urlencode({'next': wanted})}"


class StaffTwoFactorMiddleware:
    """After ``django_otp.middleware.OTPMiddleware``: every admin page (the ``admin`` URL
    namespace, and the API documentation when only staff may read it) answers a staff session
    that needs a code and has not given one with a redirect to the two-factor step; only the
    steps themselves and logout open. A session that gave its code
    (``request.user.is_verified()``) costs nothing more here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.view_name in _OPEN_BEFORE_CODE:
            return None
        staff_docs = match.view_name in _STAFF_DOCS and not settings.API_DOCS_PUBLIC
        if "admin" not in match.namespaces and not staff_docs:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
            return None  # the admin sends them to its login page itself
        verified = getattr(user, "is_verified", None)  # set by OTPMiddleware; else not verified
        if verified is not None and verified():
            return None
        step = two_factor_step_url(request, two_factor_state(user))
        return HttpResponseRedirect(step) if step else None
