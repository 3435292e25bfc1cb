"""Key-value stores: process memory (embedded) and Redis (shared between processes)."""
