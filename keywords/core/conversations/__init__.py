"""Conversations that survive reconnects: the client's transcript and the session protocol.

``agent``       the agent of docs/protocol.md 7.2: the reply and state each message must get
``transcript``  the client's own record of a conversation, and how it differs from the server's
``session``     one user's conversation across connections: connect, resume, chat, read back
``attempts``    what a server should refuse (bad tokens, other users, racing resumes), as data
``disclosure``  what a refused client must not learn of a session, and where a refusal gave it away

May import ``runtime``, ``client`` and ``masking``."""
