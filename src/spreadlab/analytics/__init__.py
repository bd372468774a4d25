"""Performance metrics and reports."""
