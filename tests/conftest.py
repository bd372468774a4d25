"""Shared fixtures: the real market data under ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from spreadlab.testing import shared_data_dir, shared_file


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ``../shared/data`` folder; skip the test where it is absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data is absent: real-data tests need the shared market data beside the repo")
    return path


def need_shared(relative: str) -> Path:
    """Return a file under ../shared/data or skip the calling test with the reason."""
    path = shared_file(relative)
    if path is None:
        pytest.skip(f"../shared/data/{relative} is absent: this test runs on that real data file")
    return path
