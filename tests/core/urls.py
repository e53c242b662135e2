from django.urls import include, path

from tests.core import views

urlpatterns = [
    path("api/test/echo", views.EchoView.as_view()),
    path("api/test/protected", views.ProtectedView.as_view()),
    path("api/test/errors/<str:kind>", views.DomainErrorView.as_view()),
    path("api/test/throttled", views.ThrottledView.as_view()),
    path("api/test/numbers", views.NumbersView.as_view()),
    path("api/test/log", views.LogView.as_view()),
    path("api/test/sleep/<str:seconds>", views.SleepView.as_view()),
    path("api/test/dealer-read-sleep/<str:seconds>", views.DealerReadSleepView.as_view()),
    path("api/integration/v1/test/sleep/<str:seconds>", views.SleepView.as_view()),
    path("test/sleep/<str:seconds>", views.plain_sleep),
    path("", include("config.urls")),
]
