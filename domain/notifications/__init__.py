"""Notifications (API §13): the inbox each user reads, and what they choose to receive."""
