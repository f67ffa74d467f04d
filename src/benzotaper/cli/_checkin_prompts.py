"""The interactive check-in (`benzotaper checkin -i`): Rich prompts, one question at a time.

The person picks what to fill in — the quick 0-10 check-in, the CIWA-B, the BWSQ, the GAD-7,
the PHQ-9 — and is always asked about danger signs. Answers out of range are asked again, so
only valid scores reach the journal; if the input ends early, nothing is saved. A PHQ-9 item 9
above zero shows the crisis information at once, before anything else happens.
"""

from __future__ import annotations

from rich.console import Console
from rich.prompt import Prompt

from benzotaper.errors import InputError
from benzotaper.journal.scales import ScaleBook, ScaleId

#: What can be filled in, in the order it is asked: choice → (scale id, CheckinEntry field).
CHOICES: dict[str, tuple[ScaleId | None, str]] = {
    "quick": (None, "quick"),
    "ciwa-b": ("ciwa-b", "ciwa_b"),
    "bwsq": ("bwsq", "bwsq"),
    "gad-7": ("gad-7", "gad7"),
    "phq-9": ("phq-9", "phq9"),
}
#: Quick symptoms asked first; the rest only if the person wants to rate more.
MAIN_QUICK = 8


def _key(text: str) -> str:
    return text.strip().lower().replace("-", "").replace("_", "").replace(" ", "")


def _ask_choices(con: Console) -> list[str]:
    by_key = {_key(c): c for c in CHOICES}
    while True:
        answer = Prompt.ask(
            f"What would you like to fill in? ({', '.join(CHOICES)}; several with commas, or none)",
            default="quick",
            console=con,
        )
        if _key(answer) == "none":
            return []
        picked = [by_key.get(_key(part)) for part in answer.split(",") if part.strip()]
        if picked and all(picked):
            return [c for c in CHOICES if c in picked]
        con.print(f"[red]Choose from {', '.join(CHOICES)}, separated by commas.[/]")


def _ask_int(con: Console, label: str, low: int, high: int, *, optional: bool) -> int | None:
    """A whole number from ``low`` to ``high``, asked again until it is one (Enter skips
    when ``optional``)."""
    while True:
        answer = Prompt.ask(
            f"{label} ({low}-{high})", default="", show_default=False, console=con
        ).strip()
        if not answer:
            if optional:
                return None
            con.print("[red]Please answer this item (it is needed for the total).[/]")
            continue
        try:
            value = int(answer)
        except ValueError:
            con.print(f"[red]{answer!r} is not a whole number.[/]")
            continue
        if low <= value <= high:
            return value
        con.print(f"[red]{value} is outside {low}-{high}.[/]")


def _yes(con: Console, question: str) -> bool:
    answer = Prompt.ask(
        question, choices=["y", "n"], case_sensitive=False, default="n", console=con
    )
    return str(answer).lower() == "y"


def _quick(con: Console, book: ScaleBook) -> dict[str, int]:
    q = book.quick
    con.print(
        f"Rate each symptom over the last day from {q.item_min} (none) to {q.item_max} (worst). "
        "Enter to skip."
    )
    ratings: dict[str, int] = {}
    for s in q.symptoms[:MAIN_QUICK]:
        value = _ask_int(con, s.label, q.item_min, q.item_max, optional=True)
        if value is not None:
            ratings[s.key] = value
    rest = q.symptoms[MAIN_QUICK:]
    if rest and _yes(con, f"Rate {len(rest)} more symptoms?"):
        for s in rest:
            value = _ask_int(con, s.label, q.item_min, q.item_max, optional=True)
            if value is not None:
                ratings[s.key] = value
    return ratings


def _scale(con: Console, book: ScaleBook, scale: ScaleId) -> list[int]:
    d = book.scales[scale]
    con.print(f"[bold]{d.name}[/] ({d.short}, {d.item_count} items)", highlight=False)
    con.print(f"[dim]{d.wording_note}[/]", highlight=False)
    items: list[int] = []
    for i, label in enumerate(d.item_labels, start=1):
        value = _ask_int(con, f"{i}. {label}", d.item_min, d.item_max, optional=False)
        assert value is not None
        items.append(value)
        if d.crisis_item == i and value > 0:
            con.print(f"[bold red]{book.danger.crisis_message}[/]", highlight=False)
    return items


def ask_checkin(con: Console, book: ScaleBook) -> dict[str, object]:
    """Ask the check-in questions; the answers as ``CheckinEntry`` fields."""
    try:
        picked = _ask_choices(con)
        data: dict[str, object] = {}
        for choice in picked:
            scale, field = CHOICES[choice]
            data[field] = _quick(con, book) if scale is None else _scale(con, book, scale)
        con.print("Since your last check-in, have you had any of these?")
        data["danger_signs"] = [s.key for s in book.danger.signs if _yes(con, s.label)]
    except EOFError:
        raise InputError(
            "The questions ended before the check-in was complete; nothing was saved"
        ) from None
    return data
