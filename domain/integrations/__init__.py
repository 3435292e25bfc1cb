"""Integrations: the transactional outbox, webhook delivery and the audit log; used by every context."""
