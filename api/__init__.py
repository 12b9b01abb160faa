"""The HTTP API: validates, calls one function, translates domain errors. No business logic."""
