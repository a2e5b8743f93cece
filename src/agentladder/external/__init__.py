"""Results brought from other tools (QA, exams, the knowledge base) per agent and period."""
