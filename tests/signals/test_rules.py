"""ZScoreBands: a SignalModel whose fitted score continues the rolling window without look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spreadlab.errors import InsufficientDataError, ValidationError
from spreadlab.signals.base import FittedSignal, SignalFrame, SignalModel
from spreadlab.signals.rules import ThresholdRule, ZScoreBands


def _frame(x: np.ndarray, start: int = 0) -> SignalFrame:
    return SignalFrame(ts=np.arange(start, start + x.size), columns={"spread": x})


def test_is_a_signal_model_and_scores_like_pandas_rolling() -> None:
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=500)) * 0.1
    model = ZScoreBands(window=50, rule=ThresholdRule(entry_z=2.0, exit_z=0.5, stop_z=4.0))
    assert isinstance(model, SignalModel)
    fitted = model.fit(_frame(x[:300]))
    assert isinstance(fitted, FittedSignal)
    got = fitted.score(_frame(x[300:], 300))
    s = pd.Series(x)
    want = ((s - s.rolling(50).mean()) / s.rolling(50).std()).to_numpy()[300:]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_split_run_equals_full_run_when_the_state_is_carried() -> None:
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.normal(size=800)) * 0.1 + np.sin(np.arange(800) / 7)
    # no stop: the position is the whole state, so carrying it makes the split exact
    model = ZScoreBands(window=30, rule=ThresholdRule(entry_z=1.5, exit_z=0.0))
    head = model.fit(_frame(x[:29]))
    full = head.target(_frame(x[29:], 29))
    mid = 400
    first = head.target(_frame(x[29:mid], 29))
    second = model.fit(_frame(x[:mid])).target(_frame(x[mid:], mid), current=first[-1])
    np.testing.assert_array_equal(np.concatenate((first, second)), full)
    assert first[-1] != 0.0 or np.any(second != 0.0)
    assert set(np.unique(full)) <= {-1.0, 0.0, 1.0}


def test_bad_inputs() -> None:
    model = ZScoreBands(window=10, rule=ThresholdRule(entry_z=2.0))
    with pytest.raises(InsufficientDataError, match="9 are needed"):
        model.fit(_frame(np.zeros(5)))
    with pytest.raises(ValidationError, match="window=1"):
        ZScoreBands(window=1, rule=ThresholdRule(entry_z=2.0))
    with pytest.raises(ValidationError, match="current=0.5"):
        model.fit(_frame(np.arange(20.0))).target(_frame(np.arange(3.0), 20), current=0.5)
