"""Temporal activities: the only place workflows reach databases and providers."""
