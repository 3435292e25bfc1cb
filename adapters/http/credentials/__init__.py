"""HTTP adapter of the credentials context: certificates."""
