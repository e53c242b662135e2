from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from apps.core import views as core_views
from apps.core.api.views import RedocView, SchemaView, SwaggerView
from apps.core.views import docs_guard

urlpatterns = [
    path("", core_views.landing, name="landing"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("health/live", core_views.health_live, name="health-live"),
    path("health/ready", core_views.health_ready, name="health-ready"),
    path("metrics", core_views.metrics, name="prometheus-django-metrics"),
    # the two-factor steps of the back office's sign-in (before the admin's catch-all)
    path("admin/two-factor/", include("apps.accounts.admin.two_factor_urls")),
    path("admin/", admin.site.urls),
    path("portal/", include("apps.portal.urls")),
    # the addresses links were e-mailed with before the portal had these pages
    path("reset-password", RedirectView.as_view(url="/portal/password/reset/", query_string=True)),
    path("verify-email", RedirectView.as_view(url="/portal/verify-email/", query_string=True)),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/schema/", docs_guard(SchemaView.as_view()), name="schema"),
    path(
        "api/docs/",
        docs_guard(SwaggerView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
    path("api/redoc/", docs_guard(RedocView.as_view(url_name="schema")), name="redoc"),
    path("api/v1/", include("config.api_v1")),
    path("api/integration/v1/", include("config.api_integration_v1")),
]

if settings.MEDIA_SERVE:
    # static() adds nothing when DEBUG is off: the same view, unconditionally
    urlpatterns += [
        re_path(
            r"^media/(?P<path>.*)$",
            core_views.media_serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]

handler400 = "apps.portal.views.bad_request"  # the portal's page under /portal/
handler403 = "apps.core.views.error_403"
handler404 = "apps.core.views.error_404"
handler500 = "apps.core.exceptions.server_error"
