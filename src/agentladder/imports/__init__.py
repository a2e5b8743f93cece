"""The one file-import pipeline: read (CSV/TSV/XLSX) -> map headers -> check rows -> preview ->
apply atomically, with one upload stash, one ledger row per file and a template per importer.

An importer declares its columns and its check and apply functions (`spec.Importer`); the
roster, certificates and external evidence are importers, and new ones start here.
"""
