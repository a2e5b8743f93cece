"""Reports: scorecards, dashboards, promotion lists and exports (CSV, XLSX, PDF, HTML)."""
