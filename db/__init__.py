"""Persistence: SQLAlchemy 2 models, sessions and the queries the app needs."""
