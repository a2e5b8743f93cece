"""Two policies run side by side over past periods, nothing written."""
