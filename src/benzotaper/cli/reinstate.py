"""``benzotaper reinstate``: return to the last well-tolerated dose, as a new plan version.

The journal's adaptive rules only propose a return (``status`` says so); this command makes it,
once agreed with the prescriber, through the journal service (the pages and the API call the
same ``JournalService.reinstate``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from benzotaper.cli.app import app, console, handle_errors, print_json
from benzotaper.cli.journal import JsonOpt, open_journal
from benzotaper.exports._common import daily_text, fmt_percent
from benzotaper.planning.models import DISCLAIMER


@app.command("reinstate")
@handle_errors
def reinstate_cmd(
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why (required; kept with the new plan version)."),
    ],
    prescriber: Annotated[
        bool,
        typer.Option("--prescriber", help="The prescriber asks for it (recorded as such)."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Go back to the dose before the most recent cut, hold it, then taper again with smaller
    cuts: a new plan version from today. Agree it with your prescriber first."""
    journal, me = open_journal()
    record = journal.reinstate(me, reason=reason, by="clinician" if prescriber else "patient")
    if as_json:
        print_json(record)
        return
    plan = record.plan
    back = plan.steps[0]
    rise = f" ({fmt_percent(back.change_percent)})" if back.change_percent is not None else ""
    console.print(
        f"Plan version {record.version} from {record.effective_from.isoformat()}: "
        f"[bold]reinstatement[/], back to {daily_text(back, journal.catalogue)}{rise} until "
        f"{back.end.isoformat()}.",
        highlight=False,
    )
    cut = next((s for s in plan.steps[1:] if s.change_percent is not None), None)
    if cut is not None:
        console.print(
            f"Then the taper resumes on {cut.start.isoformat()}: "
            f"{daily_text(cut, journal.catalogue)} ({fmt_percent(cut.change_percent or 0)}), "
            f"ending {plan.summary.end.isoformat()}. See it with: benzotaper status",
            highlight=False,
        )
    console.print(f"[dim]{DISCLAIMER}[/]", highlight=False)
