"""The trial log: appended across runs, counted per data for deflation, beside the market data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from tests.conftest import need_shared
from typer.testing import CliRunner

from spreadlab.cli.trials import trials as trials_cmd
from spreadlab.core.clock import SimClock
from spreadlab.data.catalog import Catalog
from spreadlab.data.trials import Trial, TrialLog, config_hash
from spreadlab.errors import ValidationError


def _trial(
    run: str, i: int, z: float, sharpe: float, *, key: str = "BTC-basis", lo: int = 0, hi: int = 100
) -> Trial:
    return Trial(
        run_id=run, trial=i, objective="zscore", params={"entry_z": z, "window": 24}, data_key=key,
        data_start_ns=lo, data_end_ns=hi, sharpe=sharpe, n_obs=500, metrics={"sharpe": sharpe, "total_return": 0.01},
    )  # fmt: skip


def test_deflation_counts_distinct_configurations_over_every_run_on_the_same_data(tmp_path: Path) -> None:
    clock = SimClock(start_ns=1_000)
    log = TrialLog(tmp_path, clock=clock)
    first = [_trial("run1", i, z, s) for i, (z, s) in enumerate([(1.0, 0.01), (1.5, 0.03), (2.0, -0.02)])]
    assert log.append(first) == 3
    clock.advance_to(2_000)
    # a later run re-tries z = 2.0 (same config: one trial, its latest Sharpe counts) and adds two more
    second = [_trial("run2", 0, 2.0, 0.00), _trial("run2", 1, 2.5, 0.05), _trial("run2", 2, 3.0, 0.02)]
    log.append(second)
    # other data and a non-overlapping range of the same data are not counted
    log.append([_trial("run3", 0, 9.0, 0.5, key="ETH-basis"), _trial("run3", 1, 8.0, 0.4, lo=200, hi=300)])
    n, var = log.deflation("BTC-basis", start_ns=50, end_ns=150)
    assert n == 5
    assert var == pytest.approx(np.var([0.01, 0.03, 0.00, 0.05, 0.02], ddof=1))
    assert log.deflation("BTC-basis", start_ns=250, end_ns=260) == (1, 0.0)
    assert log.deflation("nothing", start_ns=0, end_ns=1) == (0, 0.0)
    df = log.read()
    assert df.height == 8 and df["recorded_at_ns"].to_list()[:3] == [1_000] * 3
    assert log.read(run_id="run2")["trial"].to_list() == [0, 1, 2]
    row = log.read(data_key="ETH-basis").row(0, named=True)
    assert json.loads(row["params"]) == {"entry_z": 9.0, "window": 24}
    assert row["config_hash"] == config_hash("zscore", {"window": 24, "entry_z": 9.0})


def test_an_empty_or_missing_log_reads_as_empty(tmp_path: Path) -> None:
    log = TrialLog(tmp_path / "nope")
    assert log.read().height == 0
    assert log.deflation("x", start_ns=0, end_ns=1) == (0, 0.0)
    assert log.append([]) == 0
    with pytest.raises(ValidationError, match="before data_start_ns"):
        _trial("r", 0, 1.0, 0.1, lo=10, hi=5)


def test_the_log_lives_beside_the_market_data_of_a_catalog(tmp_path: Path) -> None:
    f = need_shared("nautilus_fixtures/tardis_format/bitmex_trades_XBTUSD.csv")
    cat = Catalog(tmp_path)
    cat.import_("tardis", [f])
    TrialLog(tmp_path).append([_trial("r", 0, 1.0, 0.1)])
    assert cat.query("trades").height == 10
    cat.import_("tardis", [f])  # idempotent import still works with the extra table
    assert cat.imports().height == 1
    assert TrialLog(tmp_path).read().height == 1


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("trials")(trials_cmd)
    app.command("noop")(lambda: None)
    return app


def test_cli_lists_trials_as_json_and_table(tmp_path: Path) -> None:
    TrialLog(tmp_path).append([_trial("abcdef0123", 0, 1.0, 0.1), _trial("abcdef0123", 1, 2.0, 0.2)])
    runner = CliRunner()
    res = runner.invoke(_app(), ["trials", "--catalog", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["n_trials"] == 2
    assert out["trials"][1]["params"] == {"entry_z": 2.0, "window": 24}
    assert out["trials"][1]["metrics"]["sharpe"] == 0.2
    res = runner.invoke(_app(), ["trials", "--catalog", str(tmp_path)])
    assert res.exit_code == 0 and "2 trials, 2 distinct configurations, 1 runs" in res.stdout
    assert "abcdef01" in res.stdout
    bad = runner.invoke(_app(), ["trials", "--catalog", str(tmp_path / "missing")])
    assert bad.exit_code == 2 and "is not a folder" in bad.stderr
