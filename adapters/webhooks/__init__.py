"""Outgoing webhook requests over HTTP."""
