"""Service quality monitoring (服务质量监督): forms, sampling, evaluations, disputes."""
