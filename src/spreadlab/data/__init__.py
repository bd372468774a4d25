"""Market data: canonical tables,
importers, the Parquet + DuckDB catalog, order books, and the built-in simulated market.
"""
