"""Automatic QA on call transcripts (issue 16): every call checked against the phone etiquette
rules, with quoted evidence."""
