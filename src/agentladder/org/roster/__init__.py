"""The roster import: agents, teams, skill groups, levels and identities from a CSV/XLSX file."""
