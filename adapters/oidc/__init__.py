"""OpenID Connect relying party: discovery, PKCE authorization, code exchange, ID token checks."""
