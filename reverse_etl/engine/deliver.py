"""Deliver one batch so that no row is applied twice by this client.

A write that fails with an unknown outcome (timeout, dropped connection, 5xx on
a non-repeatable request) is never blindly resent. Instead, after a backoff,
the destination reconciles the batch (reads back what it holds, finishing
idempotent membership steps for rows whose main write landed) and only the
rows it does not hold are delivered again. This repeats up to the retry
policy's `max_attempts`; then the error goes up with the batch still in the
outbox, and the next run reconciles it first.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from reverse_etl.batch import Batch, BatchOutcome
from reverse_etl.destinations.base import Destination
from reverse_etl.errors import AmbiguousDeliveryError, DestinationError
from reverse_etl.http import RetryPolicy


def deliver_exactly_once(
    destination: Destination,
    batch: Batch,
    policy: RetryPolicy,
    *,
    reconcile_first: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[BatchOutcome, int]:
    """Returns the outcome (acknowledged + rejected; never `unapplied` unless
    `reconcile_first`, where unapplied rows are left for the next diff) and the
    number of rows handed to `deliver` (for the run's rows_sent)."""
    sent = 0
    last: AmbiguousDeliveryError | None = None
    if reconcile_first:
        for attempt in range(1, policy.max_attempts + 1):
            try:
                return destination.reconcile(batch), sent
            except AmbiguousDeliveryError as exc:
                last = exc
                sleep(policy.backoff(attempt))
        assert last is not None
        raise last
    try:
        sent += len(batch.rows)
        return destination.deliver(batch), sent
    except AmbiguousDeliveryError as exc:
        last = exc
    for attempt in range(1, policy.max_attempts + 1):
        sleep(policy.backoff(attempt))
        try:
            known = destination.reconcile(batch)
            if not known.unapplied:
                return known, sent
            retry = batch.only(known.unapplied)
            known.unapplied = set()
            sent += len(retry.rows)
            return known.merge(destination.deliver(retry)), sent
        except AmbiguousDeliveryError as exc:
            last = exc
        except DestinationError as exc:
            exc.maybe_applied = True  # an earlier attempt of this batch may have landed
            raise
    raise last
