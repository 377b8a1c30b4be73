"""Webhooks: signed notices to other clinic systems, sent from a transactional outbox.

An event row is written in the change's own transaction (`record_intake_event`); the worker
fans it out and signs each delivery; admins manage the endpoints and re-queue dead deliveries.
"""

from service.codes import DeliveryStatus, EventType
from service.webhooks._admin import (
    WebhookAdminError,
    add_endpoint,
    disable_endpoint,
    list_endpoints,
    recent_deliveries,
    requeue_dead_deliveries,
    requeue_delivery,
)
from service.webhooks._events import intake_data, webhook_body
from service.webhooks._outbox import on_commit, record_intake_event
from service.webhooks._receivers import check_url
from service.webhooks._retries import RetryPolicy, succeeded
from service.webhooks._signing import new_secret, signature, signed_headers
from service.webhooks._worker import DeliveryWorker, WorkerSettings

__all__ = [
    "DeliveryStatus",
    "DeliveryWorker",
    "EventType",
    "RetryPolicy",
    "WebhookAdminError",
    "WorkerSettings",
    "add_endpoint",
    "check_url",
    "disable_endpoint",
    "intake_data",
    "list_endpoints",
    "new_secret",
    "on_commit",
    "recent_deliveries",
    "record_intake_event",
    "requeue_dead_deliveries",
    "requeue_delivery",
    "signature",
    "signed_headers",
    "succeeded",
    "webhook_body",
]
