"""Deciding a period: facts from the providers, scores, rules, stored decisions, approvals
and overrides."""
