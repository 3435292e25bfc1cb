"""Adapters: one technology per folder, implementing the domain's ports or driving its use cases."""
