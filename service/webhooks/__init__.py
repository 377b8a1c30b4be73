"""Webhooks: signed notices to other clinic systems, sent from a transactional outbox.

This package's top level is pure (bodies, signatures, retry policy). Events are written by
the intake actions (`service.intake.outbox`); the database side here is `admin` (endpoints,
deliveries) and `worker` (sending).
"""

from service.webhooks.events import DeliveryStatus, webhook_body
from service.webhooks.receivers import check_url
from service.webhooks.retries import RetryPolicy, succeeded
from service.webhooks.signing import new_secret, signature, signed_headers

__all__ = [
    "DeliveryStatus",
    "RetryPolicy",
    "check_url",
    "new_secret",
    "signature",
    "signed_headers",
    "succeeded",
    "webhook_body",
]
