"""The ``spreadlab`` command: thin — parse, load config, call one library function, print.

``spreadlab --version`` answers without importing the command tree (numba,
polars, duckdb); everything else builds :data:`spreadlab.cli.app.app`.
"""

from __future__ import annotations

import sys

from spreadlab import __version__

__all__ = ["main"]


def main() -> None:
    """Entry point of the ``spreadlab`` console script."""
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(f"spreadlab {__version__}\n")
        return
    from spreadlab.cli.app import app

    app()
