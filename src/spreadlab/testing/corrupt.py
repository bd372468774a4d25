"""Seeded corruptions of real files, for import-robustness tests.

:func:`mutants` yields ``(name, bytes)`` pairs: corrupted copies of a
file's decompressed text (truncation, byte flips, dropped / duplicated /
shuffled lines, swapped header columns, NaN / -1 / 1e308 / empty /
non-numeric fields, extra fields, empty and header-only files, non-UTF-8
bytes, a megabyte line) plus broken containers (a gzip header alone, a
truncated gzip, a truncated zip). The caller writes each to a temporary
file and imports it; every mutant must either import with every stored row
valid or fail with one :class:`~spreadlab.errors.DataError` line.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = ["MUTATIONS", "mutants", "read_text_bytes"]

MUTATIONS = (
    "truncate", "flip", "drop_line", "dup_line", "swap_columns", "nan", "minus_one", "huge", "empty_field",
    "text_field", "shuffle", "extra_field", "missing_field", "empty_file", "header_only", "non_utf8",
    "megabyte_line", "gzip_header", "gzip_truncated", "zip_truncated",
)  # fmt: skip


def read_text_bytes(path: Path) -> bytes:
    """Return the decompressed bytes of a plain, gzip or single-member zip file."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if raw[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            return zf.read(zf.namelist()[0])
    return raw


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _field_edit(data: bytes, rng: np.random.Generator, value: bytes) -> bytes:
    lines = _lines(data)
    body = [i for i in range(1, len(lines)) if lines[i].count(b",") >= 1]
    if not body:
        return data + b"\n" + value
    i = int(rng.choice(body))
    fields = lines[i].split(b",")
    j = int(rng.integers(0, len(fields)))
    fields[j] = value
    lines[i] = b",".join(fields)
    return b"\n".join(lines)


def _mutate(data: bytes, kind: str, rng: np.random.Generator) -> bytes:
    lines = _lines(data)
    n = len(lines)
    pick = int(rng.integers(1, max(n - 1, 2)))
    if kind == "truncate":
        return data[: int(rng.integers(1, max(len(data), 2)))]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(3):
            k = int(rng.integers(0, len(out)))
            out[k] ^= 1 << int(rng.integers(0, 8))
        return bytes(out)
    if kind == "drop_line":
        return b"\n".join(lines[:pick] + lines[pick + 1 :])
    if kind == "dup_line":
        return b"\n".join(lines[: pick + 1] + lines[pick:])
    if kind == "swap_columns":
        head = lines[0].split(b",")
        if len(head) >= 2:
            a, b = (int(x) for x in rng.choice(len(head), size=2, replace=False))
            head[a], head[b] = head[b], head[a]
            lines[0] = b",".join(head)
        return b"\n".join(lines)
    if kind in ("nan", "minus_one", "huge", "empty_field", "text_field"):
        value = {
            "nan": b"NaN",
            "minus_one": b"-1",
            "huge": b"1e308",
            "empty_field": b"",
            "text_field": b"abc",
        }[kind]
        return _field_edit(data, rng, value)
    if kind == "shuffle":
        body = lines[1:]
        rng.shuffle(body)
        return b"\n".join([lines[0], *body])
    if kind == "extra_field":
        lines[pick] = lines[pick] + b",7"
        return b"\n".join(lines)
    if kind == "missing_field":
        lines[pick] = lines[pick].rsplit(b",", 1)[0]
        return b"\n".join(lines)
    if kind == "empty_file":
        return b""
    if kind == "header_only":
        return lines[0] + b"\n"
    if kind == "non_utf8":
        out = bytearray(data)
        k = int(rng.integers(0, len(out)))
        out[k:k] = b"\xff\xfe"
        return bytes(out)
    if kind == "megabyte_line":
        return b"\n".join([*lines[: pick + 1], b"x" * (1 << 20), *lines[pick + 1 :]])
    raise ValueError(kind)


def mutants(path: Path, *, seed: int, per_kind: int = 1) -> Iterator[tuple[str, str, bytes]]:
    """Yield ``(mutation, file suffix, bytes)`` for seeded corruptions of ``path``.

    The suffix keeps the original name's tail (``.csv``, ``.gz``) so names that carry
    meaning (intervals, archive types) still carry it.
    """
    rng = np.random.default_rng(seed)
    data = read_text_bytes(path)
    raw = Path(path).read_bytes()
    gz = raw[:2] == b"\x1f\x8b"
    for kind in MUTATIONS:
        for k in range(per_kind):
            if kind == "gzip_header":
                yield kind, f"{k}", gzip.compress(data)[:10]
            elif kind == "gzip_truncated":
                comp = gzip.compress(data)
                yield kind, f"{k}", comp[: max(11, int(len(comp) * rng.uniform(0.2, 0.9)))]
            elif kind == "zip_truncated":
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                    zf.writestr(Path(path).name.removesuffix(".gz").removesuffix(".zip"), data)
                z = buf.getvalue()
                yield kind, f"{k}", z[: int(len(z) * rng.uniform(0.3, 0.9))]
            else:
                out = _mutate(data, kind, rng)
                yield kind, f"{k}", gzip.compress(out) if gz else out
