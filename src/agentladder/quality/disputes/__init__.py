"""Agents' disputes of evaluation items, decisions and regrades."""
