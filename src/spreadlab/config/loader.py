"""Build frozen config dataclasses from TOML tables.

:func:`build_config` walks a dataclass's fields: a nested dataclass field
takes a TOML table, a tuple field takes an array, everything else is passed to
the constructor (which validates it). Unknown keys and wrong shapes are
errors naming the file and the dotted key, never silently ignored.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from spreadlab.backtest.demo import BasisDemoConfig
from spreadlab.errors import ConfigError, SpreadlabError

if typing.TYPE_CHECKING:
    from spreadlab.data.market.config import MarketConfig

__all__ = ["build_config", "load_basis_demo", "load_market_config", "load_toml"]

T = TypeVar("T")


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; a syntax error names the file and the position."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: {exc}") from exc


def _dataclass_type(tp: Any) -> type | None:
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return tp
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if dataclasses.is_dataclass(arg) and isinstance(arg, type):
                return arg
    return None


def build_config(cls: type[T], table: dict[str, Any], *, where: str = "") -> T:
    """Construct ``cls`` (a dataclass) from a TOML table, recursively.

    Examples
    --------
    >>> from spreadlab.backtest.demo import BasisDemoConfig
    >>> build_config(BasisDemoConfig, {"entry_z": 2.5, "market": {"seed": 3}}).market.seed
    3
    """
    if not isinstance(table, dict):
        raise ConfigError(f"{where or cls.__name__}: expected a table, got {type(table).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(table) - names)
    if unknown:
        raise ConfigError(
            f"{where or cls.__name__}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
        )
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        sub = _dataclass_type(hints.get(key))
        dotted = f"{where}.{key}" if where else key
        if sub is not None and isinstance(value, dict):
            kwargs[key] = build_config(sub, value, where=dotted)
        elif isinstance(value, list):
            kwargs[key] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        else:
            kwargs[key] = value
    try:
        return cls(**kwargs)
    except SpreadlabError as exc:
        raise ConfigError(f"{where or cls.__name__}: {exc}") from exc
    except TypeError as exc:
        raise ConfigError(f"{where or cls.__name__}: {exc}") from exc


# tables of the other configs a [market] table may share a file with (studies, backtests)
_SIBLINGS = frozenset({"strategy", "search", "walk_forward", "cpcv", "report", "backtest", "venue", "risk"})


def _one_table(path: str | Path, name: str, *, siblings: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The ``[name]`` table of a TOML file; any other top-level key (but ``siblings``) is an error."""
    data = load_toml(path)
    unknown = sorted(set(data) - {name} - siblings)
    if unknown:
        raise ConfigError(f"{path}: unknown top-level table(s) {', '.join(unknown)}; expected [{name}]")
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {name} must be a table ([{name}]), got {type(table).__name__}")
    return table


def load_basis_demo(path: str | Path) -> BasisDemoConfig:
    """Load a :class:`BasisDemoConfig` from the ``[demo]`` table of a TOML file."""
    return build_config(BasisDemoConfig, _one_table(path, "demo"), where=f"{path}: demo")


def load_market_config(path: str | Path) -> MarketConfig:
    """Load a :class:`~spreadlab.data.market.MarketConfig` from the ``[market]`` table of a TOML file.

    The same checks as :func:`load_basis_demo`: an unknown top-level table
    (``[markt]``), an unknown field or a bad value is an error naming the file.
    The tables of a study or backtest config that carries the ``[market]`` it
    runs on (``[strategy]``, ``[search]``, ``[backtest]``, ``[[venue]]``, ...)
    are left to their own loaders.
    """
    from spreadlab.data.market.io import config_from_dict

    table = _one_table(path, "market", siblings=_SIBLINGS)
    try:
        return config_from_dict(table)
    except SpreadlabError as exc:
        raise ConfigError(f"{path}: market: {exc}") from exc
    except TypeError as exc:
        raise ConfigError(f"{path}: market: {exc}") from exc
