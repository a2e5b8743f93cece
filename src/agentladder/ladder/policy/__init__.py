"""The ladder policy: its shape, validation, hash, and the versions applied."""
