"""The shared core: event loop thread, client connections, events, statistics, probes, evidence."""
