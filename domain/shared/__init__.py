"""Building blocks shared by every bounded context."""
