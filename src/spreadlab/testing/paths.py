"""Locate the real market data in ``../shared/data`` relative to the repository root."""

from __future__ import annotations

from pathlib import Path

__all__ = ["repo_root", "shared_data_dir", "shared_file"]


def repo_root() -> Path:
    """Return the repository root (the folder holding ``pyproject.toml``)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists():
            return parent
    raise FileNotFoundError("pyproject.toml not found above spreadlab/testing")


def shared_data_dir() -> Path | None:
    """Return ``../shared/data`` beside the repository, or None if it is absent."""
    path = repo_root().parent / "shared" / "data"
    return path if path.is_dir() else None


def shared_file(relative: str) -> Path | None:
    """Return a file under ``../shared/data``, or None if it (or the folder) is absent."""
    base = shared_data_dir()
    if base is None:
        return None
    path = base / relative
    return path if path.exists() else None
