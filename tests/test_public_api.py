"""The flat public API: every name in ``__all__`` resolves and nothing is missing."""

from __future__ import annotations

import importlib

import spreadlab


def test_all_names_resolve_to_their_defining_module() -> None:
    for name in spreadlab.__all__:
        if name == "__version__":
            continue
        value = getattr(spreadlab, name)
        module = importlib.import_module(spreadlab._EXPORTS[name])
        assert getattr(module, name) is value, name


def test_all_is_complete_and_sorted() -> None:
    names = [n for n in spreadlab.__all__ if n != "__version__"]
    assert names == sorted(names)
    assert set(names) == set(spreadlab._EXPORTS)
    assert "__version__" in spreadlab.__all__


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        spreadlab.NoSuchThing
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_validation_statistics_are_exported() -> None:
    for name in (
        "BootstrapCI", "CPCVSplits", "CombinatorialPurgedKFold", "PBOResult", "bootstrap_ci", "deflated_sharpe", "min_backtest_length", "pbo",
        "probabilistic_sharpe",
    ):  # fmt: skip
        assert name in spreadlab.__all__, name
