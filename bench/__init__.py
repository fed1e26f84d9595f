"""Benchmark harness for the adapter (issue 8): see bench/README.md."""
