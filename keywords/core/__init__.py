"""The shared core: everything the keyword components stand on, in layers with one job each.

``runtime``        the event loop thread, time arguments, the event log
``client``         the observed WebSocket client connection and what it reads from its socket
``streams``        resumable streams: adapters, the client session, assembly, backoff
``conversations``  sessions that survive reconnects: the transcript and the session protocol
``flapping``       many clients connecting and dropping over and over
``probes``         what the server holds: Prometheus text, psutil, snapshots, the leak rule
``faults``         fault backends: the in-process proxy or a Toxiproxy API
``servers``        server processes the suites start themselves
``evidence``       figures beside thresholds, HTML tables, SVG charts for log.html
``stats``          the one percentile and latency statistics
``masking``        the one masker for secrets, and credentials that print masked

Loop-side code returns results; the keyword components judge and word them. See
docs/architecture.md for what each layer may import.
"""
