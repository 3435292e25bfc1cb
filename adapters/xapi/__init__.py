"""A learning record store's statements resource over HTTP (xAPI 1.0.3)."""
