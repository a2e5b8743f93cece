"""Calibration sessions and the reliability of QA evaluators."""
