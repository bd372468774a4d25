from __future__ import annotations

from pathlib import Path

import pytest

from spreadlab.backtest.demo import BasisDemoConfig
from spreadlab.config import build_config, load_basis_demo
from spreadlab.errors import ConfigError
from spreadlab.testing import repo_root


def test_example_config_loads_and_matches_its_text() -> None:
    cfg = load_basis_demo(repo_root() / "examples" / "basis_demo.toml")
    assert isinstance(cfg, BasisDemoConfig)
    assert cfg.window_bars == 240 and cfg.entry_z == 2.0 and cfg.market.seed == 7 and cfg.market.days == 3.0


def test_unknown_keys_and_bad_values_name_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[demo]\nentry_zz = 2\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) entry_zz"):
        load_basis_demo(bad)
    bad.write_text("[demo.market]\ndays = -1.0\n")
    with pytest.raises(ConfigError, match=r"demo.market: .*days=-1.0"):
        load_basis_demo(bad)
    bad.write_text("[demo\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_basis_demo(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_basis_demo(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="window_bars=1"):
        build_config(BasisDemoConfig, {"window_bars": 1})
