"""The driving HTTP adapter: Litestar controllers, schemas, guards, problems and middleware."""
