"""repro-jupyter benchmarks: every figure is a median of repeats with min/max, and every speed
claim is a ratio against a baseline measured in the same run (these machines are noisy)."""
