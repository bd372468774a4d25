"""The opportunity scanner (alias module): see :mod:`spreadlab.signals.scan`."""

from spreadlab.signals.scan import (
    SCAN_SCHEMA,
    DetectionScore,
    ScanConfig,
    ScanKind,
    scan,
    scan_frames,
    scan_times,
    score_detections,
)

__all__ = [
    "SCAN_SCHEMA",
    "DetectionScore",
    "ScanConfig",
    "ScanKind",
    "scan",
    "scan_frames",
    "scan_times",
    "score_detections",
]
