"""Payment providers (API §14)."""
