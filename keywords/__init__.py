"""Robot Framework keyword libraries for testing the resilience of WebSocket services."""

__version__ = "0.1.0"
