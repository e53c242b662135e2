from django.urls import path

from apps.quotes.api import views

urlpatterns = [
    path("quotes", views.QuoteListView.as_view(), name="quotes"),
    path("quotes/<str:number>", views.QuoteDetailView.as_view(), name="quote-detail"),
    path("quotes/<str:number>/accept", views.QuoteAcceptView.as_view(), name="quote-accept"),
    path("quotes/<str:number>/reject", views.QuoteRejectView.as_view(), name="quote-reject"),
]
