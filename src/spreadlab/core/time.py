"""Time helpers. All times are int64 nanoseconds since the Unix epoch, UTC.

A 365.25-day year (:data:`NS_PER_YEAR`) is used to annualise anything that
runs 24/7; there is no trading-day calendar in crypto. Time to an expiry is
different: it is counted in the day count of the venue that lists the contract
(:data:`VENUE_DAY_COUNT`, :func:`year_fraction`), because that is the year in
which the venue's own implied vols and greeks are stated.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from spreadlab.core.enums import DayCount, Venue
from spreadlab.errors import ValidationError

__all__ = [
    "NS_PER_DAY",
    "NS_PER_HOUR",
    "NS_PER_MINUTE",
    "NS_PER_SECOND",
    "NS_PER_YEAR",
    "VENUE_DAY_COUNT",
    "datetime_to_ns",
    "ns_to_datetime",
    "ns_to_iso",
    "parse_time",
    "venue_day_count",
    "year_fraction",
]

NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_HOUR = 60 * NS_PER_MINUTE
NS_PER_DAY = 24 * NS_PER_HOUR
NS_PER_YEAR = int(365.25 * NS_PER_DAY)

#: Day count each venue states its option IVs, greeks and annualised basis in.
#: Deribit: ACT/365, checked against its published mark IVs and greeks on real
#: chains. Binance options: ACT/365, checked against the mark-price payload of
#: its API documentation (spreadlab has no Binance options venue yet). Bybit and
#: OKX publish no year length and no payload to check it by; ACT/365 is assumed.
#: The simulated venues use ACT/365 so the built-in market quotes like Deribit.
VENUE_DAY_COUNT: dict[Venue, DayCount] = dict.fromkeys(Venue, DayCount.ACT_365)


def venue_day_count(venue: Venue | str) -> DayCount:
    """Return the day count of ``venue`` (ACT/365 for a venue not in the table).

    Examples
    --------
    >>> venue_day_count("DERIBIT").value
    'ACT/365'
    """
    try:
        return VENUE_DAY_COUNT[Venue(venue)]
    except ValueError:
        return DayCount.ACT_365


def year_fraction(start_ns: npt.ArrayLike, end_ns: npt.ArrayLike, day_count: DayCount) -> float | np.ndarray:
    """Years from ``start_ns`` to ``end_ns`` (int ns UTC) in ``day_count``; negative if end < start.

    A float for scalar inputs, else a float64 array of the broadcast shape.

    Examples
    --------
    >>> year_fraction(0, 365 * NS_PER_DAY, DayCount.ACT_365)
    1.0
    >>> year_fraction(0, 365 * NS_PER_DAY, DayCount.ACT_365_25)  # doctest: +ELLIPSIS
    0.99931...
    """
    if not isinstance(day_count, DayCount):
        raise ValidationError(f"day_count={day_count!r} must be a DayCount")
    span = np.subtract(np.asarray(end_ns, dtype=np.int64), np.asarray(start_ns, dtype=np.int64))
    years = span / (day_count.days_per_year * NS_PER_DAY)
    return float(years) if np.ndim(years) == 0 else np.asarray(years, dtype=np.float64)


def datetime_to_ns(dt: datetime) -> int:
    """Convert an aware datetime to int nanoseconds UTC.

    Naive datetimes are rejected: a timestamp without a zone is ambiguous.

    Examples
    --------
    >>> datetime_to_ns(datetime(2024, 1, 1, tzinfo=UTC))
    1704067200000000000
    """
    if dt.tzinfo is None:
        raise ValidationError(f"datetime {dt.isoformat()} has no time zone; pass an aware datetime")
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1_000


def ns_to_datetime(ns: int) -> datetime:
    """Convert int nanoseconds UTC to an aware datetime (microsecond precision)."""
    seconds, rem = divmod(int(ns), NS_PER_SECOND)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=rem // 1_000)


def ns_to_iso(ns: int) -> str:
    """Format int nanoseconds UTC as ISO 8601 with nanoseconds and a ``Z`` suffix.

    Examples
    --------
    >>> ns_to_iso(1704067200000000001)
    '2024-01-01T00:00:00.000000001Z'
    """
    seconds, rem = divmod(int(ns), NS_PER_SECOND)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{rem:09d}Z"


def parse_time(text: str | int | datetime) -> int:
    """Parse a time given as int ns, an aware datetime or an ISO 8601 string.

    Strings without an offset are read as UTC (the convention of every
    exchange API and archive). Fractions beyond microseconds are kept.

    Examples
    --------
    >>> parse_time("2024-08-09T00:00:00.5Z")
    1723161600500000000
    >>> parse_time("2024-08-09")
    1723161600000000000
    """
    if isinstance(text, bool):
        raise ValidationError(f"time={text!r} is not a time")
    if isinstance(text, int):
        return text
    if isinstance(text, datetime):
        return datetime_to_ns(text)
    raw = text.strip()
    frac_ns = 0
    body = raw
    if raw.endswith(("Z", "z")):
        body = raw[:-1] + "+00:00"
    # split off a fractional part longer than microseconds, which datetime cannot hold
    dot = body.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(body) and body[end].isdigit():
            end += 1
        digits = body[dot + 1 : end]
        frac_ns = int((digits + "000000000")[:9]) if digits else 0
        body = body[:dot] + body[end:]
    try:
        dt = datetime.fromisoformat(body)
    except ValueError as exc:
        raise ValidationError(f"time={text!r} is not an ISO 8601 time") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return datetime_to_ns(dt) + frac_ns
