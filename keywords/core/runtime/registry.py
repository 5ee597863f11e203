"""Named handles: connections, conversations, stream sessions, proxies.

In the spirit of Robot Framework's ``ConnectionCache`` (Process, SSHLibrary): every object
a keyword creates gets a name, later keywords find it by that name, and a miss says what
is known. One class for every kind of handle, so every component words its misses alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

#: What ``many()`` accepts for "every handle of this kind".
ALL = "ALL"

Names = str | Iterable[str] | None


class Registry(Generic[T]):
    """Handles of one kind, by name, in the order they were added."""

    def __init__(self, kind: str, prefix: str | None = None) -> None:
        self.kind = kind
        self._prefix = prefix or kind.split()[-1]
        self._items: dict[str, T] = {}
        self._counter = 0

    def next_name(self) -> str:
        """A fresh name ``<prefix>-N``, numbered across the suite so names never repeat."""
        while True:
            self._counter += 1
            name = f"{self._prefix}-{self._counter}"
            if name not in self._items:
                return name

    def add(self, name: str, item: T) -> str:
        """Register ``item`` as ``name``; a name in use is an error."""
        if name in self._items:
            raise ValueError(f"A {self.kind} named {name!r} already exists.")
        self._items[name] = item
        return name

    def get(self, name: str) -> T:
        """The handle named ``name``; a miss names the known ones."""
        try:
            return self._items[str(name)]
        except KeyError:
            known = ", ".join(self._items) or "none"
            raise ValueError(f"No {self.kind} named {name!r}; known: {known}.") from None

    def many(self, names: Names = ALL) -> list[T]:
        """One name, a list of names, or ``ALL`` (also ``None``) for every handle."""
        if names is None or names == ALL:
            return list(self._items.values())
        if isinstance(names, str):
            return [self.get(names)]
        return [self.get(n) for n in names]

    def pop(self, name: str) -> T | None:
        """Forget ``name``; returns its handle, if it was known."""
        return self._items.pop(name, None)

    def clear(self) -> list[T]:
        """Forget every handle and return them, for closing."""
        items = list(self._items.values())
        self._items.clear()
        return items

    def names(self) -> list[str]:
        """Every known name, oldest first."""
        return list(self._items)

    def items(self) -> list[tuple[str, T]]:
        """``(name, handle)`` pairs, oldest first."""
        return list(self._items.items())

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)
