"""Certifications: the types (built in and added), the certificates agents hold, their import,
expiry and validity on a day."""
