"""Fault backends for the NetworkFaults keywords: the in-process proxy or a Toxiproxy API.

May import ``faultproxy``, ``runtime`` and ``keywords.errors``."""
