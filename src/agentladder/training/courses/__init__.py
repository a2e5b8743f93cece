"""Courses: the courses agents completed and their hours, entered by hand or imported; the
training provider sums the hours per period."""
