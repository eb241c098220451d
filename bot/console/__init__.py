"""Offline console chat."""
