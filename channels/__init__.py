"""Provider adapters, each behind a small protocol so providers can be added or failed over."""
