"""Operating an installation: backups of the database and the data directory, and restores."""
