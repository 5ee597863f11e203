"""The toxic model: a :class:`Toxic` as a user defines it, and the registry of what each type does.

A :class:`Toxic` is the definition a user adds to a proxy, with the same JSON shape as
Toxiproxy 2.x::

    {"name": "latency_downstream", "type": "latency", "stream": "downstream",
     "toxicity": 1.0, "attributes": {"latency": 200, "jitter": 50}}

:data:`STAGES` maps each toxic type to the :class:`~.stage.Stage` class that does its work;
a toxic module adds its stage with :func:`register`. A definition is checked against the
registry when it is made: an unknown type, stream, field or attribute, or a bad toxicity, is a
:class:`ToxicError` that says what was expected and what was seen. Toxiproxy ignores a field
or attribute it does not know; here that would leave a misspelt toxic on its defaults, accepted
and doing nothing (``{"Rate": 100}`` is a bandwidth of rate 0: unlimited), so it is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from wsresilience.faultproxy.toxics.stage import Stage

STREAMS = ("upstream", "downstream")
#: The fields of a toxic object, as Toxiproxy 2.x has them.
FIELDS = ("name", "type", "stream", "toxicity", "attributes")

#: Toxic type → the stage class that does its work, in the order the toxic modules registered.
STAGES: dict[str, type[Stage]] = {}

S = TypeVar("S", bound="type[Stage]")


class ToxicError(ValueError):
    """A toxic definition that cannot be used; the message says what was expected and seen."""


def register(kind: str) -> Callable[[S], S]:
    """Class decorator: the decorated stage does the work of toxics of type ``kind``."""

    def add(stage: S) -> S:
        if kind in STAGES:
            raise ValueError(f"toxic type {kind!r} is registered already, by {STAGES[kind].__name__}")
        STAGES[kind] = stage
        return stage

    return add


@dataclass
class Toxic:
    """A named fault on one stream of a proxy, as Toxiproxy describes it."""

    type: str
    name: str = ""
    stream: str = "downstream"
    toxicity: float = 1.0
    attributes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        stage_class = STAGES.get(self.type)
        if stage_class is None:
            raise ToxicError(f"invalid toxic type: expected one of {', '.join(sorted(STAGES))}, got {self.type!r}")
        if self.stream not in STREAMS:
            raise ToxicError(
                f"stream was invalid, can be either upstream or downstream: got {self.stream!r}"
            )
        if not self.name:
            self.name = f"{self.type}_{self.stream}"
        if not isinstance(self.name, str):
            raise ToxicError(f"toxic name: expected a string, got {self.name!r}")
        self.toxicity = _check_toxicity(self.toxicity)
        attributes = self.attributes or {}
        unknown = [repr(name) for name in attributes if name not in stage_class.DEFAULTS]
        if unknown:
            # Ignored, it would leave the toxic on its defaults: accepted, and doing nothing.
            expected = ", ".join(stage_class.DEFAULTS) or "no attributes"
            raise ToxicError(f"unknown attribute{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                             f"of a {self.type} toxic: expected {expected}")
        self.attributes = stage_class.check_attributes({**stage_class.DEFAULTS, **attributes})

    @classmethod
    def from_json(cls, data: Any) -> Toxic:
        """Build from a Toxiproxy toxic object (``type`` required, the rest defaulted)."""
        attributes = _attributes_of(data, "toxic")
        check_fields(data, "toxic")
        return cls(
            type=str(data.get("type", "")),
            name=data.get("name") or "",
            stream=data.get("stream") or "downstream",
            toxicity=data.get("toxicity", 1.0),
            attributes=attributes,
        )

    def updated(self, data: Any) -> Toxic:
        """A copy with ``attributes`` merged and ``toxicity`` replaced, as Toxiproxy's update."""
        attributes = _attributes_of(data, "toxic update")
        return Toxic(
            type=self.type,
            name=self.name,
            stream=self.stream,
            toxicity=data.get("toxicity", self.toxicity),
            attributes={**self.attributes, **attributes},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }


def check_fields(data: dict[str, Any], what: str) -> None:
    """Refuse a field a toxic object does not have: ``{"type": "bandwidth", "rate": 100}``
    would otherwise be a bandwidth toxic on its default rate, 0, which limits nothing."""
    unknown = [repr(name) for name in data if name not in FIELDS]
    if unknown:
        raise ToxicError(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} of a {what}: "
                         f"expected {', '.join(FIELDS)} (a toxic's own settings go inside attributes)")


def _attributes_of(data: Any, what: str) -> dict[str, Any]:
    """The ``attributes`` of a toxic's JSON (``{}`` when absent); ``data`` (named ``what`` in
    the error) and its attributes must both be JSON objects."""
    if not isinstance(data, dict):
        raise ToxicError(f"{what}: expected a JSON object, got {type(data).__name__}")
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ToxicError(f"attributes: expected a JSON object, got {type(attributes).__name__}")
    return attributes


def _check_toxicity(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ToxicError(f"toxicity: expected a number from 0 to 1, got {value!r}")
    return float(value)


def int_attr(attributes: dict[str, Any], name: str, minimum: int = 0) -> int:
    """Attribute ``name`` as an integer >= ``minimum`` (a whole float is accepted), else a ToxicError."""
    value = attributes[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ToxicError(f"attribute {name}: expected an integer >= {minimum}, got {value!r}")
    return value
