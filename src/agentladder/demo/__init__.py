"""The synthetic call centre: a demo and the ground truth for fairness benchmarks."""
