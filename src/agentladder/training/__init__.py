"""Training and certification: certifications agents hold (exams will issue them later)."""
