"""HTTP routes of the identity context: /auth and /users."""
