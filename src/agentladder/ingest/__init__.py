"""Ingest: one adapter per source format -> normalized Parquet datasets; the import ledger."""
