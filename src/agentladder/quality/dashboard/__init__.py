"""The QA dashboard and the QA section of an agent's scorecard."""
