"""The ladder: levels, policy, evaluation, decisions, explanations."""
