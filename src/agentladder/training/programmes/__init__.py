"""Certification programmes: the exams whose pass awards a certification type."""
