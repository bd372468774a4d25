"""Factories, synthetic streams and hypothesis strategies for tests.

Nothing in ``src/`` imports this package (an import-linter contract checks it).
"""

from spreadlab.testing.paths import repo_root, shared_data_dir, shared_file

__all__ = ["repo_root", "shared_data_dir", "shared_file"]
