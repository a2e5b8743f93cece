"""User accounts: passwords, sessions, login throttling, preferences."""
