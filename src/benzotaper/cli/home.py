"""The home-method options of `plan` and `compare`: opt in to making small doses at home.

``with_home_options`` adds ``--home-liquid``, ``--home-vehicle``, ``--scale`` and
``--tablet-weight`` to a command and hands it a ``home`` dict of ``Preferences`` fields, so a
command adds them with one decorator and one ``**home`` (planning/home_methods.py has the rules).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

R = TypeVar("R")

_OPTIONS: dict[str, tuple[Any, Any]] = {
    "home_liquid": (
        Annotated[
            bool,
            typer.Option(
                "--home-liquid",
                help="Opt in to making the small doses at the end at home: one tablet made up to "
                "100 mL (community practice) and a measured volume taken or removed with an oral "
                "syringe. Not a licensed method: agree it with your prescriber. Each dose shows "
                "its recipe and accuracy band (dispersed tablets gave 3%-99% of the intended "
                "dose). Refused for a drug that does not dissolve in water (e.g. lorazepam) "
                "unless --home-vehicle names a suspending vehicle.",
            ),
        ],
        False,
    ),
    "home_vehicle": (
        Annotated[
            str | None,
            typer.Option(
                "--home-vehicle",
                help="With --home-liquid: a suspending vehicle to make the liquid in (one your "
                "pharmacist advises), for a drug that does not dissolve in water.",
            ),
        ],
        None,
    ),
    "scale": (
        Annotated[
            bool,
            typer.Option(
                "--scale",
                help="Opt in to weighing a portion of a crushed tablet on a 0.001 g scale (with "
                "--tablet-weight). No portion under 10 mg is used: a scale is unreliable below "
                "about ten times its readability. Not a licensed method: agree it with your "
                "prescriber.",
            ),
        ],
        False,
    ),
    "tablet_weight_mg": (
        Annotated[
            float | None,
            typer.Option(
                "--tablet-weight",
                help="With --scale: the weight in mg of one whole tablet, weighed on your scale "
                "(weigh several and divide).",
            ),
        ],
        None,
    ),
}


def with_home_options(func: Callable[..., R]) -> Callable[..., R]:
    """Give a command the home-method options; it receives them as ``home=`` (a dict of the
    ``Preferences`` fields given)."""
    signature = inspect.signature(func, eval_str=True)
    kept = [p for name, p in signature.parameters.items() if name != "home"]
    annotations = {p.name: p.annotation for p in kept}
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=ann)
        for name, (ann, default) in _OPTIONS.items()
    ]
    annotations.update({name: ann for name, (ann, _) in _OPTIONS.items()})

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        home = {name: kwargs.pop(name, None) for name in _OPTIONS}
        return func(*args, home={k: v for k, v in home.items() if v is not None}, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    wrapper.__annotations__ = annotations
    return wrapper
