"""Personal data rights (API §15.3): a person's data exported, and the person erased."""
