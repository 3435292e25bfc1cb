"""Password hashing (argon2id), JWT signing (pyjwt) and TOTP (pyotp)."""
