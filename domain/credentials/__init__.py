"""Credentials: certificates of completion, their numbers, verification and revocation."""
