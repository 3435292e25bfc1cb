"""The composition root: settings, bootstrap (the only place that picks adapters), app factory, CLI."""
