"""The period close: metrics, then every evidence subsystem's aggregates, then the ladder run."""
