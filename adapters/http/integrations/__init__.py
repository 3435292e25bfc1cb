"""HTTP adapter of the integrations context: webhook deliveries for operators."""
