"""Feature builders and learning targets for the machine-learning signals.

Every builder returns a polars frame keyed by ``ts`` (int64 ns) whose value
at bar ``t`` uses only data available at ``t``; warm-ups are null. Join them
on ``ts`` and pass the result to :func:`to_signal_frame`.
"""

from spreadlab.signals.features.asof import asof_join
from spreadlab.signals.features.book import book_features
from spreadlab.signals.features.frame import FrameBuild, NullPolicy, to_signal_frame
from spreadlab.signals.features.series import (
    ReturnKind,
    event_features,
    funding_features,
    open_interest_features,
    realised_volatility,
    spread_features,
)
from spreadlab.signals.features.surface import interpolate_tenor, surface_feature_series
from spreadlab.signals.features.targets import LabelSet, PassageOutcome, first_passage_labels, horizon_change
from spreadlab.signals.features.universe import correlation_features, log_returns

__all__ = [
    "FrameBuild",
    "LabelSet",
    "NullPolicy",
    "PassageOutcome",
    "ReturnKind",
    "asof_join",
    "book_features",
    "correlation_features",
    "event_features",
    "first_passage_labels",
    "funding_features",
    "horizon_change",
    "interpolate_tenor",
    "log_returns",
    "open_interest_features",
    "realised_volatility",
    "spread_features",
    "surface_feature_series",
    "to_signal_frame",
]
