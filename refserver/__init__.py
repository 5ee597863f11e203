"""The reference WebSocket service the suites run against by default.

It implements heartbeat, resume and session semantics for real, and can be started with
seeded defects (``--defect NAME``) so the suites can prove they catch them.

Layout, and what may import what (the import graph has no cycle; keep it that way):

- Leaves, importing nothing from the package: ``auth`` (tokens), ``client`` (one
  connected client), ``conversation``, ``defects`` (the :class:`~wsresilience.refserver.defects.Defect`
  enum), ``metrics``, ``stream_content``. ``config`` imports ``defects``; ``store``
  imports ``conversation``; ``router`` and ``keepalive`` import ``client``.
- ``host``: :class:`~wsresilience.refserver.host.ServerHost`, what a feature sees of the server, and
  the hook types. Imports ``auth``, ``client``, ``config``, ``metrics``, ``router``.
- ``features.*``: one module per feature, each ``install(server: ServerHost) -> None``.
  A feature imports ``host``, ``client`` and leaves, never ``app`` (not even for type
  checking) and never another feature; features talk through the host's hook lists.
- ``app``: :class:`~wsresilience.refserver.app.ServerApp`, the server; imports anything above and
  installs the features in the order its ``FEATURES`` states. Only ``__main__`` (the
  command line) and tests import ``app``.
"""

__version__ = "0.1.0"
