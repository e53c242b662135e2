from django.urls import include, path

from tests.core import views

urlpatterns = [
    path("api/test/echo", views.EchoView.as_view()),
    path("api/test/protected", views.ProtectedView.as_view()),
    path("api/test/errors/<str:kind>", views.DomainErrorView.as_view()),
    path("api/test/throttled", views.ThrottledView.as_view()),
    path("api/test/numbers", views.NumbersView.as_view()),
    path("api/test/log", views.LogView.as_view()),
    path("", include("config.urls")),
]
