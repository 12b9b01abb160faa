"""Each operation of Herald's API written once, as a function returning a `Call` (no I/O);
herald_client.api binds them to the sync and the async client."""
