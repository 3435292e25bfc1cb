"""Files: uploads kept on an object store, with their records and access rules."""
