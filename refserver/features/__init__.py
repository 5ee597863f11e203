"""Features of the reference server: one module per feature, all of the same shape.

Each module has one entry point, ``install(server: ServerHost) -> None``, which registers
the feature's message handlers on ``server.router``, appends to the server's hook lists
(``admission_checks``, ``on_authenticated``, ``on_disconnected``) and adds its metrics.
State lives in ``install``'s closures or in an object it creates, never as attributes
added to the server. A feature imports :mod:`wsresilience.refserver.host`, :mod:`wsresilience.refserver.client`
and leaf modules (auth, config, defects, store…), never :mod:`wsresilience.refserver.app` nor another
feature; :mod:`wsresilience.refserver.app` lists them in install order (``FEATURES``).
"""
