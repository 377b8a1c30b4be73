"""Webhooks: signed notices to other clinic systems, sent from a transactional outbox.

This package's top level is pure (event types, payloads, signatures, retry policy). The
database side lives in `outbox` (writing events), `admin` (endpoints, deliveries) and `worker`
(sending).
"""

from service.webhooks.events import DeliveryStatus, EventType, intake_data, webhook_body
from service.webhooks.receivers import check_url
from service.webhooks.retries import RetryPolicy, succeeded
from service.webhooks.signing import new_secret, signature, signed_headers

__all__ = [
    "DeliveryStatus",
    "EventType",
    "RetryPolicy",
    "check_url",
    "intake_data",
    "new_secret",
    "signature",
    "signed_headers",
    "succeeded",
    "webhook_body",
]
