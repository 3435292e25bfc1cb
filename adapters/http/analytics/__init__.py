"""The analytics routes (API §5.9)."""
