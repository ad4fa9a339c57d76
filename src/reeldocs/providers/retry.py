"""Retrying provider calls that failed for a passing reason (rate limits, 5xx, timeouts).

Backoff is exponential with full jitter so that several workers hitting the same
rate limit do not come back in lockstep. Both the number of attempts and the
total time are capped, and the wait is sliced so a cancelled job stops within
a fraction of a second instead of sleeping out its backoff.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from reeldocs.providers.base import Cancelled, ProviderError, TransientProviderError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Returns True (or raises Cancelled itself) when the job was asked to stop.
StopCheck = Callable[[], object]

_CANCEL_CHECK_SECONDS = 0.2


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    initial_delay: float = 2.0
    max_delay: float = 30.0
    total_seconds: float = 300.0  # no new attempt starts after this much time

    def delay_before(self, retry_number: int) -> float:
        """Seconds to wait before retry `retry_number` (1 for the first retry)."""
        ceiling = min(self.max_delay, self.initial_delay * 2 ** (retry_number - 1))
        # half fixed, half random: never zero, never synchronised across workers
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def check_stop(should_stop: StopCheck | None) -> None:
    if should_stop is not None and should_stop():
        raise Cancelled()


def wait_or_stop(
    seconds: float,
    should_stop: StopCheck | None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Sleep `seconds`, checking `should_stop` every fraction of a second."""
    deadline = time.monotonic() + seconds
    while True:
        check_stop(should_stop)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        sleep(min(remaining, _CANCEL_CHECK_SECONDS))


def call_with_retry(
    call: Callable[[], T],
    policy: RetryPolicy,
    *,
    should_stop: StopCheck | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `call`, retrying TransientProviderError; other errors propagate at once.

    When the attempts or the time run out, the last error is raised again as a
    ProviderError that is still marked transient: this call gave up, but a later
    retry of the whole job may well succeed.
    """
    started = time.monotonic()
    attempt = 1
    while True:
        check_stop(should_stop)
        try:
            return call()
        except TransientProviderError as error:
            last_error = error
        delay = policy.delay_before(attempt)
        out_of_attempts = attempt >= policy.attempts
        out_of_time = time.monotonic() - started + delay > policy.total_seconds
        if out_of_attempts or out_of_time:
            raise ProviderError(
                f"{last_error.message} Reeldocs gave up after {attempt} "
                f"attempt{'s' if attempt > 1 else ''}.",
                transient=True,
            ) from last_error
        logger.info(
            "attempt %d failed (%s); retrying in %.2f s", attempt, last_error.message, delay
        )
        wait_or_stop(delay, should_stop, sleep)
        attempt += 1
