"""Exams: blueprints, attempts scored in real time, and the item statistics that keep them valid."""
