"""Use cases: one module per area, plain async functions with explicit collaborators."""
