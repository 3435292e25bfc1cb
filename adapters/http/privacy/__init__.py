"""HTTP routes of personal-data rights (API §15.3)."""
