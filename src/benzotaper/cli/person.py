"""The person-factor options of `plan` and `compare` (and so of `export`), generated.

``with_person_options`` adds one Typer option per ``PersonFactors`` field, named and explained
as the field declares (``planning.factors``), and hands the command a ``person`` dict of the
values given. Adding a factor to the model adds its option here; nothing is listed twice.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from benzotaper.planning.factors import Factor, person_factors

R = TypeVar("R")


def _option(factor: Factor) -> tuple[Any, Any]:
    """(annotation, default) of the option for one factor; numbers default to 'not given'."""
    if factor.kind == "bool":
        return Annotated[bool, typer.Option(*factor.flags, help=factor.description)], False
    base: type = int if factor.kind == "int" else float
    return Annotated[base | None, typer.Option(*factor.flags, help=factor.description)], None


def with_person_options(func: Callable[..., R]) -> Callable[..., R]:
    """Give a command one option per person factor; it receives them as ``person=``."""
    signature = inspect.signature(func, eval_str=True)  # Typer reads the real annotations
    kept = [p for name, p in signature.parameters.items() if name != "person"]
    annotations = {p.name: p.annotation for p in kept}
    added: list[inspect.Parameter] = []
    for factor in person_factors():
        annotation, default = _option(factor)
        added.append(
            inspect.Parameter(
                factor.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )
        )
        annotations[factor.name] = annotation

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        person = {f.name: kwargs.pop(f.name, None) for f in person_factors()}
        return func(*args, person=person, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    wrapper.__annotations__ = annotations
    return wrapper
