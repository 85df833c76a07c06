"""A third-party-style exporter, installed in tests through an entry point like any other."""
