"""TOML -> the frozen configs each layer owns. Secrets come from environment variables only."""

from spreadlab.config.loader import build_config, load_basis_demo, load_toml

__all__ = ["build_config", "load_basis_demo", "load_toml"]
