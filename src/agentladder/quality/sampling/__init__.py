"""QA sampling: which calls are evaluated, and by whom."""
