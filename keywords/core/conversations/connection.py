"""The connection a conversation talks over: an observed connection that keeps every message.

Split from :mod:`.session`, which speaks the protocol over it.
"""

from __future__ import annotations

import asyncio

from wsresilience.core.client.connection import ObservedConnection


class RecordingQueue(asyncio.Queue[str | bytes]):
    """A message queue that also keeps every message put in it, read or not."""

    def __init__(self, record: list[str | bytes]) -> None:
        super().__init__()
        self.record = record

    def put_nowait(self, item: str | bytes) -> None:
        """Keep ``item`` in the record, then queue it."""
        self.record.append(item)
        super().put_nowait(item)


class SessionConnection(ObservedConnection):
    """An observed connection that also says when its reader has delivered everything.

    The TCP connection can be gone while messages it carried still wait in websockets'
    buffer; only when the reader task ends is every message in :attr:`messages`.
    :attr:`received` keeps every message the server sent, in order, whether a request
    read it or not: what a refused client was told is all of it, not only the replies
    it waited for.
    """

    def __init__(self, name: str, url: str) -> None:
        super().__init__(name, url)
        self.reader_done = asyncio.Event()
        self.received: list[str | bytes] = []
        self.messages = RecordingQueue(self.received)

    async def _read_messages(self) -> None:
        try:
            await super()._read_messages()
        finally:
            self.reader_done.set()
