"""Learning records as xAPI statements sent to a learning record store (API §15.1)."""
