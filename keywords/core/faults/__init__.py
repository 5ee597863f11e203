"""Fault backends for the network-fault keywords: the in-process proxy or a Toxiproxy API.

``backends``    where proxies run: in this process's loop, or on a Toxiproxy HTTP API
``toxiproxy``   the asyncio client for that API
``toxics``      keyword arguments in Toxiproxy's words (pure functions)
``handle``      a proxy as every component sees it in ``ctx.proxies``, and the one look-up
``server_end``  how the server ended a proxied connection, seen from the proxy

May import ``faultproxy``, ``runtime``, ``masking`` and ``wsresilience.errors``."""
