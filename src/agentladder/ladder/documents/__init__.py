"""The ladder's documents: an agent's scorecard, a team's dashboard, the promotion list with the
fairness table, built once and rendered as XLSX, PDF or HTML by the reports toolkit."""
