"""Seeing inside: Prometheus metrics, health and readiness, the Grafana dashboard."""
