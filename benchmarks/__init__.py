"""Benchmarks: spreadlab against its peer tools on the same work (``make bench``)."""
