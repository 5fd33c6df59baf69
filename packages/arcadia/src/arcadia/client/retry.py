"""How long the client waits between attempts, and how many it makes."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, for calls that are safe to send again.

    The wait before retry *n* lies between half and all of ``backoff * 2 ** (n - 1)``,
    never over ``max_delay``. The jitter spreads out clients that all failed at the same
    moment (a restart of Ebling), so they do not all come back at once; keeping at least
    half of the delay keeps the backoff a backoff. A ``Retry-After`` from Ebling replaces
    the computed wait; one longer than ``max_delay`` ends the retries, since waiting that
    long inside a workflow task is worse than failing over to an outbox.

    Attributes:
        retries: Attempts after the first; 0 sends each request once.
        backoff: Seconds to wait before the first retry; each further retry doubles it.
        max_delay: The longest single wait, in seconds.
    """

    retries: int = 3
    backoff: float = 0.5
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError(f"retries must be 0 or more, not {self.retries}.")
        if self.backoff < 0 or self.max_delay < 0:
            raise ValueError("backoff and max_delay are seconds, 0 or more.")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first)."""
        ceiling = min(self.max_delay, self.backoff * 2.0 ** (retry - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret
