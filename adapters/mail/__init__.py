"""Mailers: console (log), file (one .eml per message) and SMTP."""
