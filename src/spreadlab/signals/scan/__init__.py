"""The opportunity scanner: every candidate spread at a time, ranked by net edge after costs.

See :mod:`spreadlab.signals.scan.scanner` for the procedure,
:mod:`~spreadlab.signals.scan.linear` and :mod:`~spreadlab.signals.scan.options`
for each kind's value and fair value, and :mod:`~spreadlab.signals.scan.candidate`
for costs, net edge, z-score, half-life and capacity.
"""

from spreadlab.signals.scan.candidate import Candidate, evaluate
from spreadlab.signals.scan.config import ScanConfig, ScanKind, parse_kinds
from spreadlab.signals.scan.scanner import (
    SCAN_SCHEMA,
    DetectionScore,
    scan,
    scan_frames,
    scan_times,
    score_detections,
)

__all__ = [
    "SCAN_SCHEMA",
    "Candidate",
    "DetectionScore",
    "ScanConfig",
    "ScanKind",
    "evaluate",
    "parse_kinds",
    "scan",
    "scan_frames",
    "scan_times",
    "score_detections",
]
