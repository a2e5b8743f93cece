"""Metrics: the KPI catalog, periods, the engine (Ibis on DuckDB or Spark), stored results."""
