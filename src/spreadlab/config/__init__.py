"""TOML -> the frozen configs each layer owns. Secrets come from environment variables only."""

from spreadlab.config.loader import build_config, load_basis_demo, load_market_config, load_toml
from spreadlab.config.study import load_study, study_from_dict

__all__ = [
    "build_config",
    "load_basis_demo",
    "load_market_config",
    "load_study",
    "load_toml",
    "study_from_dict",
]
