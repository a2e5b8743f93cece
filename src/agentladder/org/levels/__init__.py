"""The nine levels: looking them up and reading them as people write them."""
