"""Metrics of the whole installation, in Prometheus' text format."""
