"""Where test users' tokens come from: a signing secret the suite holds, or a command.

May import ``masking`` and ``wsresilience.errors``."""
