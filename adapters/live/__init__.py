"""Live connections (API §13) on Litestar's channels: the fan-out between processes (Redis pub/sub,
or process memory for one process) and what each connection holds."""
