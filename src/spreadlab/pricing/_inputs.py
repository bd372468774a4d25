"""Validation and broadcasting of the array inputs of the pricing functions.

Every public pricing function takes scalars or array-likes, broadcasts them to
one shape, checks each named field, and hands flat float64 arrays to a kernel.
A bad value raises :class:`~spreadlab.errors.ValidationError` naming the field,
the first offending index and value, and the valid range.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from spreadlab._typing import BoolArray, FloatArray
from spreadlab.core.enums import OptionKind, Settlement
from spreadlab.errors import ValidationError

__all__ = ["KindLike", "as_settlement", "broadcast_fields", "kind_shape", "kind_to_is_call"]

KindLike = OptionKind | str | bool | Sequence[OptionKind | str | bool] | npt.ArrayLike
"""An option kind, or one per option: OptionKind, "call"/"put", or ``is_call`` booleans."""

Check = Literal["finite", "positive", "non_negative", "any"]


def _to_float(name: str, value: object) -> FloatArray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name}={value!r} must be a number or an array of numbers") from exc
    return arr


def _check(name: str, arr: FloatArray, check: Check) -> None:
    if check == "any":
        return
    flat = arr.ravel()
    bad_nan = ~np.isfinite(flat)
    if bad_nan.any():
        i = int(np.argmax(bad_nan))
        raise ValidationError(
            f"{name}[{i}]={flat[i]!r} must be finite (NaN and inf are not allowed)"
            if arr.ndim
            else f"{name}={flat[i]!r} must be finite (NaN and inf are not allowed)"
        )
    if check == "positive":
        bad = flat <= 0.0
        rng = "> 0"
    elif check == "non_negative":
        bad = flat < 0.0
        rng = ">= 0"
    else:
        return
    if bad.any():
        i = int(np.argmax(bad))
        where = f"{name}[{i}]" if arr.ndim else name
        raise ValidationError(f"{where}={flat[i]!r} must be {rng}")


def broadcast_fields(
    fields: dict[str, tuple[object, Check]], *, extra_shapes: Sequence[tuple[int, ...]] = ()
) -> tuple[tuple[int, ...], dict[str, FloatArray]]:
    """Validate each ``name: (value, check)`` and broadcast all (and ``extra_shapes``) to one shape.

    Returns the common shape and a dict of contiguous 1-D float64 arrays.
    """
    arrays = {}
    for name, (value, check) in fields.items():
        arr = _to_float(name, value)
        _check(name, arr, check)
        arrays[name] = arr
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()), *extra_shapes)
    except ValueError as exc:
        shapes = ", ".join(f"{n}{a.shape}" for n, a in arrays.items())
        raise ValidationError(f"inputs cannot be broadcast to one shape: {shapes}") from exc
    flat = {
        n: np.ascontiguousarray(np.broadcast_to(a, shape).ravel(), dtype=np.float64)
        for n, a in arrays.items()
    }
    return shape, flat


def _one_kind(value: object, index: int | None) -> bool:
    where = "kind" if index is None else f"kind[{index}]"
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, OptionKind):
        return value is OptionKind.CALL
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("call", "c"):
            return True
        if low in ("put", "p"):
            return False
    raise ValidationError(
        f"{where}={value!r} is not an option kind; use OptionKind.CALL/PUT, 'call'/'put' or a bool"
    )


def kind_shape(kind: KindLike) -> tuple[int, ...]:
    """Return the shape of ``kind`` (``()`` for a single kind)."""
    if isinstance(kind, OptionKind | str | bool | np.bool_):
        return ()
    return tuple(np.shape(np.asarray(kind)))


def kind_to_is_call(kind: KindLike, shape: tuple[int, ...]) -> BoolArray:
    """Turn ``kind`` (one or one per option) into a flat boolean ``is_call`` array of ``shape``."""
    if isinstance(kind, OptionKind | str | bool | np.bool_):
        one = _one_kind(kind, None)
        return np.full(int(np.prod(shape, dtype=np.int64)), one, dtype=np.bool_)
    arr = np.asarray(kind)
    if arr.dtype == np.bool_:
        out = arr
    else:
        flat = arr.ravel()
        out = np.fromiter((_one_kind(v, i) for i, v in enumerate(flat)), dtype=np.bool_, count=flat.size)
        out = out.reshape(arr.shape)
    try:
        return np.ascontiguousarray(np.broadcast_to(out, shape).ravel())
    except ValueError as exc:
        raise ValidationError(f"kind has shape {arr.shape}, which does not broadcast to {shape}") from exc


def as_settlement(settlement: Settlement | str) -> Settlement:
    """Return ``settlement`` as a :class:`Settlement`, or raise naming the field."""
    if isinstance(settlement, Settlement):
        return settlement
    try:
        return Settlement(str(settlement).lower())
    except ValueError as exc:
        raise ValidationError(
            f"settlement={settlement!r} must be one of {[s.value for s in Settlement]}"
        ) from exc
