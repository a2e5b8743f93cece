"""The knowledge library (KM系统库): FAQ articles, cases, SOPs and scripts, their search, and
the contribution points that reach the ladder."""
