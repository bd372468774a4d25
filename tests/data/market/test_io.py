"""Reading a written market back, and configs to and from plain data."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from spreadlab.data.market import (
    TABLES,
    MarketConfig,
    build_market,
    config_from_dict,
    config_to_dict,
    read_market,
)
from spreadlab.errors import DataError, ValidationError


def test_round_trip_through_parquet_is_exact(tmp_path: Path) -> None:
    mkt = build_market(MarketConfig(days=1.0, seed=11))
    mkt.write_parquet(tmp_path)
    back = read_market(tmp_path)
    assert back.config == mkt.config
    assert back.instruments == mkt.instruments
    for name in TABLES:
        assert back.tables[name].equals(mkt.tables[name]), name
    # the config read back rebuilds the very same market
    again = build_market(back.config)
    for name in TABLES:
        assert again.tables[name].equals(mkt.tables[name]), name


def test_config_from_toml_table_with_parts_left_out() -> None:
    text = """
    seed = 3
    days = 2.0
    options = {}
    [perp]
    premium_half_life_minutes = 45.0
    burst_size_bp = [10.0, 20.0]
    [universe]
    coins = ["ETH", "SOL"]
    start_prices = [3000.0, 100.0]
    cointegrated_pairs = [["ETH", "SOL"]]
    """
    cfg = config_from_dict(tomllib.loads(text))
    assert cfg.seed == 3 and cfg.perp.premium_half_life_minutes == 45.0
    assert cfg.perp.burst_size_bp == (10.0, 20.0)
    assert cfg.universe is not None and cfg.universe.cointegrated_pairs == (("ETH", "SOL"),)
    assert cfg.options is not None and cfg.options.strikes_per_expiry == 11  # defaults fill the rest
    assert config_from_dict(config_to_dict(cfg)) == cfg
    no_opts = config_from_dict({**config_to_dict(cfg), "options": None})
    assert no_opts.options is None


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"perp": {"half_life": 3}}, r"MarketConfig.perp: unknown field\(s\) \['half_life'\]"),
        ({"colour": "red"}, r"MarketConfig: unknown field\(s\) \['colour'\]"),
        ({"index": {"vol": -1.0}}, "IndexConfig.vol=-1.0"),
        ({"futures": 3}, "MarketConfig.futures must be a table"),
    ],
)
def test_bad_config_data_names_the_field(data, match) -> None:
    with pytest.raises(ValidationError, match=match):
        config_from_dict(data)


def test_reading_a_broken_folder_names_the_file(tmp_path: Path) -> None:
    mkt = build_market(MarketConfig(days=0.5, seed=1, options=None, universe=None))
    paths = mkt.write_parquet(tmp_path)
    paths["funding"].unlink()
    with pytest.raises(DataError, match=r"funding\.parquet"):
        read_market(tmp_path)
    paths["config"].write_text(json.dumps({"days": "three"}))
    with pytest.raises(DataError, match=r"config\.json.*MarketConfig.days"):
        read_market(tmp_path)
    paths["config"].write_text("{not json")
    with pytest.raises(DataError, match=r"config\.json: not valid JSON"):
        read_market(tmp_path)
    with pytest.raises(DataError, match="config.json"):
        read_market(tmp_path / "nowhere")
