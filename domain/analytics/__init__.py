"""Analytics: figures over learning, assessment and catalog data, read through aggregate queries."""
