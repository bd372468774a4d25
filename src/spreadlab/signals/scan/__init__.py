"""The opportunity scanner: every candidate spread at a time, ranked by net edge after costs.

See :mod:`spreadlab.signals.scan.scanner` for the procedure,
:mod:`~spreadlab.signals.scan.linear` and :mod:`~spreadlab.signals.scan.options`
for each kind's value and fair value, and :mod:`~spreadlab.signals.scan.candidate`
for costs, net edge, z-score, half-life and capacity.

Names load on first use, so that ``spreadlab scan --help`` (which only needs
:class:`ScanKind`) does not import polars, numba or scipy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spreadlab.signals.scan.candidate import Candidate, evaluate
    from spreadlab.signals.scan.config import ScanConfig, ScanKind, parse_kinds
    from spreadlab.signals.scan.scanner import (
        SCAN_SCHEMA,
        DetectionScore,
        ScanResult,
        scan,
        scan_frames,
        scan_report,
        scan_times,
        score_detections,
    )

_WHERE = {
    "Candidate": "candidate",
    "evaluate": "candidate",
    "ScanConfig": "config",
    "ScanKind": "config",
    "parse_kinds": "config",
    "SCAN_SCHEMA": "scanner",
    "DetectionScore": "scanner",
    "ScanResult": "scanner",
    "scan_report": "scanner",
    "scan": "scanner",
    "scan_frames": "scanner",
    "scan_times": "scanner",
    "score_detections": "scanner",
}

__all__ = [
    "SCAN_SCHEMA",
    "Candidate",
    "DetectionScore",
    "ScanConfig",
    "ScanKind",
    "ScanResult",
    "evaluate",
    "parse_kinds",
    "scan",
    "scan_frames",
    "scan_report",
    "scan_times",
    "score_detections",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
