"""Integration API: webhook endpoints and deliveries of the calling key."""

from django.urls import path

from apps.integrations.api import webhooks

urlpatterns = [
    path("webhook-endpoints", webhooks.WebhookEndpointListView.as_view(), name="webhook-endpoints"),
    path(
        "webhook-endpoints/<int:pk>",
        webhooks.WebhookEndpointDetailView.as_view(),
        name="webhook-endpoint",
    ),
    path(
        "webhook-endpoints/<int:pk>/test",
        webhooks.WebhookEndpointTestView.as_view(),
        name="webhook-endpoint-test",
    ),
    path(
        "webhook-deliveries", webhooks.WebhookDeliveryListView.as_view(), name="webhook-deliveries"
    ),
    path(
        "webhook-deliveries/<int:pk>",
        webhooks.WebhookDeliveryDetailView.as_view(),
        name="webhook-delivery",
    ),
    path(
        "webhook-deliveries/<int:pk>/retry",
        webhooks.WebhookDeliveryRetryView.as_view(),
        name="webhook-delivery-retry",
    ),
]
