"""What people read of the ladder: scorecards, team dashboards, promotion lists, fairness
tables, and their documents (XLSX, PDF, HTML)."""
