"""When to try a failed delivery again: exponential backoff with jitter, then give up."""

from __future__ import annotations

import random
from dataclasses import dataclass

# No single wait beyond a day, however many attempts a clinic allows.
MAX_DELAY_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff_seconds: float

    def delay_after(self, attempts: int, rng: random.Random | None = None) -> float | None:
        """Seconds to wait after `attempts` failures, or None when the delivery is dead.

        The wait doubles with each failure; "equal jitter" (half fixed, half random) keeps
        the many deliveries that failed together, during an outage, from retrying together.
        """
        if attempts >= self.max_attempts:
            return None
        full = min(self.backoff_seconds * 2.0 ** (attempts - 1), MAX_DELAY_SECONDS)
        return full / 2 + (rng or _RANDOM).uniform(0, full / 2)


_RANDOM = random.Random()  # noqa: S311 - jitter, not a secret


def succeeded(status_code: int) -> bool:
    """Any 2xx. Redirects are not followed, so a 3xx counts as a failure like a 4xx or 5xx."""
    return 200 <= status_code < 300
