"""The person factors as the edges need them, read from ``PersonFactors``' one declaration.

Each field of ``PersonFactors`` carries its description, CLI flag(s) and form label
(``planning.models.factor``); this module turns them into plain ``Factor`` records so the CLI
options, the web builder's questions and the error messages are generated, never hand-kept.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any, Literal, NamedTuple

from annotated_types import Ge, Le

from benzotaper.planning.models import PersonFactors

Kind = Literal["bool", "int", "float"]
_KINDS: dict[type, Kind] = {bool: "bool", int: "int", float: "float"}


class Factor(NamedTuple):
    """One question about the person: what it is called in each edge, and its limits."""

    name: str
    kind: Kind
    optional: bool
    default: Any
    flags: tuple[str, ...]
    label: str
    description: str
    minimum: float | None = None
    maximum: float | None = None
    widget: str | None = None

    @property
    def flag(self) -> str:
        """The main CLI flag (the first one declared)."""
        return self.flags[0]


def _kind(annotation: Any) -> tuple[Kind, bool]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _KINDS[inner[0]], True
    return _KINDS[annotation], False


@cache
def person_factors() -> tuple[Factor, ...]:
    """Every person factor, in declaration order."""
    out: list[Factor] = []
    for name, info in PersonFactors.model_fields.items():
        extra = info.json_schema_extra
        if not isinstance(extra, dict):
            raise TypeError(f"PersonFactors.{name} is not declared with factor()")
        kind, optional = _kind(info.annotation)
        lower = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
        upper = next((m.le for m in info.metadata if isinstance(m, Le)), None)
        widget = extra.get("x-form-widget")
        out.append(
            Factor(
                name=name,
                kind=kind,
                optional=optional,
                default=info.default,
                flags=tuple(str(f) for f in typing.cast(list[str], extra["x-cli-flags"])),
                label=str(extra["x-form-label"]),
                description=info.description or "",
                minimum=None if lower is None else float(typing.cast(float, lower)),
                maximum=None if upper is None else float(typing.cast(float, upper)),
                widget=None if widget is None else str(widget),
            )
        )
    return tuple(out)


def yes_no_factors() -> tuple[Factor, ...]:
    """The factors asked as yes/no questions (checkboxes, CLI switches)."""
    return tuple(f for f in person_factors() if f.kind == "bool")


def number_factors() -> tuple[Factor, ...]:
    """The factors asked as numbers (age, years, days a week, attempts)."""
    return tuple(f for f in person_factors() if f.kind != "bool")
