"""Configuration: one validated Settings object, read from the environment."""
