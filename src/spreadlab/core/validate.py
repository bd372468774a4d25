"""Validation helpers for frozen value objects.

Each raises :class:`~spreadlab.errors.ValidationError` with a message that
names the parameter, its value and the valid range.
"""

from __future__ import annotations

import math

from spreadlab.errors import ValidationError

__all__ = ["require_finite", "require_in_range", "require_non_negative", "require_positive"]


def require_finite(name: str, value: float) -> float:
    """Return ``value`` as float if it is a finite number, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{name}={value!r} must be a number")
    if not math.isfinite(value):
        raise ValidationError(f"{name}={value!r} must be finite (NaN and inf are not allowed)")
    return float(value)


def require_positive(name: str, value: float) -> float:
    """Return ``value`` if it is finite and > 0, else raise."""
    v = require_finite(name, value)
    if v <= 0.0:
        raise ValidationError(f"{name}={value!r} must be > 0")
    return v


def require_non_negative(name: str, value: float) -> float:
    """Return ``value`` if it is finite and >= 0, else raise."""
    v = require_finite(name, value)
    if v < 0.0:
        raise ValidationError(f"{name}={value!r} must be >= 0")
    return v


def require_in_range(name: str, value: float, low: float, high: float, *, inclusive: bool = True) -> float:
    """Return ``value`` if it lies in ``[low, high]`` (or ``(low, high)``), else raise."""
    v = require_finite(name, value)
    ok = low <= v <= high if inclusive else low < v < high
    if not ok:
        brackets = f"[{low}, {high}]" if inclusive else f"({low}, {high})"
        raise ValidationError(f"{name}={value!r} must lie in {brackets}")
    return v
