"""Server probes: Prometheus text, psutil samples, snapshots over time and the leak rule.

May import ``runtime``, ``masking``, ``stats`` and ``wsresilience.errors``."""
