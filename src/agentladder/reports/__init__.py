"""Reports: scorecards, dashboards and exports (CSV, XLSX)."""
