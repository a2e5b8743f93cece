"""The organisation: agents, teams, skill groups, ACD identity aliases, users and roles."""
