"""A thread-safe token bucket that keeps a client under a "N requests per W seconds" limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Hands out one token per request; `acquire()` sleeps until a token is free.

    A bucket of `capacity` tokens refilled at `rate` tokens/s lets through at most
    `capacity + rate * W` requests in any window of W seconds. `for_window` picks
    the rate so that this never exceeds the destination's documented limit, which
    is what a rolling-window limiter on the server side (HubSpot's
    TEN_SECONDLY_ROLLING) checks.
    """

    def __init__(
        self,
        capacity: float,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if capacity < 1 or rate <= 0:
            raise ValueError("capacity must be >= 1 and rate > 0")
        self.capacity = float(capacity)
        self.rate = float(rate)
        self._tokens = float(capacity)
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    @classmethod
    def for_window(
        cls, max_requests: int, per_seconds: float, *, burst: int | None = None
    ) -> TokenBucket:
        """A bucket that never exceeds `max_requests` in any `per_seconds` window."""
        if max_requests < 1 or per_seconds <= 0:
            raise ValueError("max_requests must be >= 1 and per_seconds > 0")
        burst = burst if burst is not None else max(1, max_requests // 10)
        burst = min(burst, max_requests)
        refill = max_requests - burst
        if refill <= 0:  # a window of one request: refill one token per window
            return cls(1, 1.0 / per_seconds)
        return cls(burst, refill / per_seconds)

    def acquire(self) -> float:
        """Take one token, sleeping as long as needed. Returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1 - 1e-9:  # tolerate float rounding after a sleep
                    self._tokens = max(0.0, self._tokens - 1)
                    return waited
                delay = max((1 - self._tokens) / self.rate, 1e-4)
            self._sleep(delay)
            waited += delay
