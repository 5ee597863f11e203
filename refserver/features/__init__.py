"""Features of the reference server, each registering its message handlers on the router."""
