"""The dealer portal's language for a request: the dealer's choice (the language cookie),
else ``PORTAL_LANGUAGE_CODE`` (Turkish); not the browser's ``Accept-Language``, so the portal,
its error pages and the bank's return page speak as the portal does."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_noop

# Messages of Django REST framework that our catalogue words otherwise, listed here so that
# ``makemessages`` keeps them in ``locale/`` (which comes before the libraries' catalogues):
# its Turkish for a decimal field's refusal said "numara" (an identifier, a phone number),
# where a quantity or an amount is a "sayı".
LIBRARY_MESSAGES = (gettext_noop("A valid number is required."),)


def portal_language(request) -> str:
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "") if request else ""
    return chosen if chosen in dict(settings.LANGUAGES) else settings.PORTAL_LANGUAGE_CODE
