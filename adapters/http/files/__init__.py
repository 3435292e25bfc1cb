"""HTTP adapter of the files context."""
