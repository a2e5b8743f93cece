"""Agents' appeals of their decisions and managers' answers."""
