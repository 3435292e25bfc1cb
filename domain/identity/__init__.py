"""Identity: users, sign-ins, tokens and multi-factor authentication."""
