"""What the tests and the benchmarks share: fake servers that speak the real wire formats, the
stack of real processes, settings, updates and trackers. Nothing here is a test."""
