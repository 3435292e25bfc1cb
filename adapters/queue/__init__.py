"""Job queues: in-process asyncio tasks (embedded) and SAQ on Redis (served by `lms worker`)."""
