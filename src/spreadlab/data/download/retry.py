"""Bounded retries with exponential backoff and jitter for flaky networks.

The wait before retry ``k`` (``k = 1`` after the first failed attempt) is

.. math::

    d_k = \\min\\bigl(d_{max},\\; \\max(d_0, f)\\, m^{k-1}\\bigr)\\,(1 - j\\,u_k),
    \\qquad u_k \\sim U[0, 1)

with ``d0 = base_delay``, ``m = multiplier``, ``dmax = max_delay``,
``j = jitter`` and ``f`` a floor the caller knows (an exchange's
``rateLimit``). A server's ``Retry-After`` (seconds or an HTTP date) raises
the wait to at least that many seconds; one asking for more than
``max_retry_after`` ends the retries at once. At most ``max_attempts``
requests are made in all.

Only transient failures are retried: refused or reset connections,
timeouts, a body cut short, and HTTP 408/425/429/500/502/503/504. A 404 or
any other 4xx is an answer, not a hiccup, and fails at once.

Sleeping and randomness are injected (``sleep=``, ``rng=``), so tests run
without waiting and reproducibly.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from spreadlab.core.validate import require_in_range, require_non_negative
from spreadlab.errors import DataError, ValidationError

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "TransportError", "parse_retry_after"]

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

Sleep = Callable[[float], None]


class TransportError(DataError):
    """A request failed in transit (refused, reset, timed out, cut short); retrying may succeed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently to retry a failed request.

    Parameters
    ----------
    max_attempts
        Requests made in all, the first included (1 = no retry); 1..100.
    base_delay
        Seconds to wait before the first retry (>= 0).
    multiplier
        Growth of the wait per retry (>= 1).
    max_delay
        Cap on one wait, before jitter (>= base_delay).
    jitter
        Fraction of each wait drawn at random and taken off, in [0, 1]
        (0 = deterministic waits; 1 = "full jitter").
    max_retry_after
        Longest ``Retry-After`` (seconds) worth waiting for; a longer one fails at once.
    retry_statuses
        HTTP statuses treated as transient.

    Examples
    --------
    >>> p = RetryPolicy(max_attempts=4, base_delay=1.0, jitter=0.0)
    >>> [p.backoff(k, rng=None) for k in (1, 2, 3)]
    [1.0, 2.0, 4.0]
    >>> RetryPolicy(max_attempts=0)
    Traceback (most recent call last):
    ...
    spreadlab.errors.ValidationError: max_attempts=0 must be an integer in [1, 100]
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 60.0
    jitter: float = 0.5
    max_retry_after: float = 300.0
    retry_statuses: frozenset[int] = field(default=RETRYABLE_STATUSES)

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ValidationError(f"max_attempts={self.max_attempts!r} must be an integer in [1, 100]")
        if not 1 <= self.max_attempts <= 100:
            raise ValidationError(f"max_attempts={self.max_attempts!r} must be an integer in [1, 100]")
        require_non_negative("base_delay", self.base_delay)
        require_in_range("multiplier", self.multiplier, 1.0, 100.0)
        require_non_negative("max_delay", self.max_delay)
        if self.max_delay < self.base_delay:
            raise ValidationError(f"max_delay={self.max_delay!r} must be >= base_delay={self.base_delay!r}")
        require_in_range("jitter", self.jitter, 0.0, 1.0)
        require_non_negative("max_retry_after", self.max_retry_after)
        statuses = frozenset(self.retry_statuses)
        bad = sorted(
            s for s in statuses if isinstance(s, bool) or not isinstance(s, int) or not 100 <= s <= 599
        )
        if bad:
            raise ValidationError(f"retry_statuses={bad!r}: each must be an HTTP status in [100, 599]")
        object.__setattr__(self, "retry_statuses", statuses)

    def backoff(self, retry: int, *, rng: np.random.Generator | None, floor: float = 0.0) -> float:
        """Return the wait (seconds) before retry number ``retry`` (1-based).

        ``floor`` raises the starting wait (e.g. an exchange's rate limit in
        seconds); ``rng`` draws the jitter (None: no jitter).
        """
        raw = min(self.max_delay, max(self.base_delay, floor) * self.multiplier ** (retry - 1))
        if rng is None or self.jitter == 0.0:
            return raw
        return raw * (1.0 - self.jitter * float(rng.random()))

    def wait(
        self,
        retry: int,
        *,
        rng: np.random.Generator | None,
        retry_after: float | None = None,
        floor: float = 0.0,
    ) -> float:
        """Return the wait before retry ``retry``, at least ``retry_after`` when the server sent one."""
        delay = self.backoff(retry, rng=rng, floor=floor)
        return delay if retry_after is None else max(delay, retry_after)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for (None when absent or unreadable).

    Parameters
    ----------
    value
        The header: delta-seconds (``"120"``) or an HTTP date.
    now
        The current POSIX time, for HTTP dates.

    Examples
    --------
    >>> parse_retry_after("3", now=0.0)
    3.0
    >>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", now=15.0)
    45.0
    >>> parse_retry_after("soon", now=0.0) is None
    True
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)
