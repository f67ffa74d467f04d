"""Plan builder: regimen and questions in, a live preview (htmx), comparison, and save.

Planning, risk, pieces, comparison metrics and charts all come from the library; this module
only reads the form, calls it and shows the answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from benzotaper.catalogue import MARKETS, Catalogue
from benzotaper.errors import BenzotaperError
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.web import plancharts, planview, suggestions
from benzotaper.web.accounts import Identity
from benzotaper.web.deps import CatalogueDep, DbDep, FormDep, MaybeUserDep, get_knowledge
from benzotaper.web.plan_form import (
    FLAGS,
    MAX_ROWS,
    NUMBERS,
    PACES,
    PENDING_FIELD,
    STRATEGIES,
    TAIL_OFF,
    TAILS,
    PlanForm,
    as_data,
    dump_pending,
    empty_form,
    from_request,
    load_pending,
    parse_form,
)
from benzotaper.web.routes.catalogue import drug_names
from benzotaper.web.templating import render

router = APIRouter()


def today() -> dt.date:
    """The adapter reads the clock; the core is given the date."""
    return dt.date.today()


def _context(cat: Catalogue, form: PlanForm, **extra: Any) -> dict[str, Any]:
    return {
        "nav": "builder",
        "form": form,
        "names": drug_names(cat),
        "sources": cat.equivalence_sources(),
        "default_source": cat.default_source,
        "strategies": STRATEGIES,
        "paces": PACES,
        "tails": TAILS,
        "tail_off": TAIL_OFF,
        "flags": FLAGS,
        "numbers": NUMBERS,
        "markets": MARKETS,
        "max_rows": MAX_ROWS,
        "cat": cat,
        **extra,
    }


def _proposal(form: PlanForm) -> planview.Proposal | None:
    """The plan, or None with the planner's own message added to the form's problems."""
    if form.request is None:
        return None
    chart = plancharts.preview_url(as_data(form))
    try:
        return planview.propose(form.request, get_knowledge(), today(), chart)
    except BenzotaperError as exc:
        if getattr(exc, "field", None) == "start":
            form.errors["start"] = f"Start date: {exc.message}"
        else:
            form.problems.append(exc.message)
        return None


def _preview(form: PlanForm) -> dict[str, Any]:
    """The plan for the page (``plan``) and what renders it (``proposal``: the plan, its view,
    and the key its rendered preview is kept under, ``templating.proposed_plan``)."""
    proposal = _proposal(form)
    if proposal is None:
        return {}
    return {"plan": proposal.plan, "proposal": proposal}


@router.get("/plan/new", response_class=HTMLResponse, include_in_schema=False)
def builder_page(
    request: Request,
    cat: CatalogueDep,
    db: DbDep,
    user: MaybeUserDep,
    start_from: Annotated[str | None, Query(alias="from", pattern="^active$")] = None,
    suggestion: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    """An empty form, or one filled from the saved plan / a clinician's suggestion."""
    form = empty_form()
    extra: dict[str, Any] = {}
    if user is not None and user.role == "patient":
        if suggestion is not None:
            form = from_request(suggestions.request_of(db, user.id, suggestion))
            extra["notice"] = (
                "Filled in from your clinician's suggestion. Nothing changes until you save."
            )
        elif start_from == "active":
            active = JournalService(db, get_knowledge()).active_plan(user.id)
            if active is not None:
                form = from_request(active.request)
                extra["notice"] = "Filled in from your saved plan. Saving makes a new version."
    if form.request is None and extra:
        form = parse_form(as_data(form), cat)
        extra |= _preview(form)
    return render(request, "builder.html", _context(cat, form, **extra))


@router.post("/plan/new", response_class=HTMLResponse, include_in_schema=False)
def builder_submit(request: Request, cat: CatalogueDep, posted: FormDep) -> HTMLResponse:
    """Without JavaScript every button posts here; the whole page comes back, values kept."""
    data: Mapping[str, Any] = posted
    pending = load_pending(str(data.get(PENDING_FIELD, "")))
    if pending is not None:  # "back to the plan" from the log-in page
        data = {**pending, "action": "preview"}
    action = str(data.get("action") or "")
    if action.startswith("choose:"):  # a row of the comparison, chosen without JavaScript
        _, strategy, crossover, tail = [*action.split(":"), "", "", ""][:4]
        data = {**dict(data), "strategy": strategy, "crossover": crossover, "tail": tail}
        action = "preview"
    form = parse_form(data, cat)
    extra: dict[str, Any] = {}
    if action != "add-row":
        extra = _preview(form)
        if action == "compare" and form.ok:
            extra["comparison"] = planview.compare(form.request, get_knowledge(), today())  # type: ignore[arg-type]
    status = 422 if (form.errors or form.problems) and action != "add-row" else 200
    return render(request, "builder.html", _context(cat, form, **extra), status_code=status)


@router.post("/plan/preview", response_class=HTMLResponse, include_in_schema=False)
def builder_preview(request: Request, cat: CatalogueDep, posted: FormDep) -> HTMLResponse:
    """htmx: the preview fragment for the form as it stands."""
    form = parse_form(posted, cat)
    ctx = _context(cat, form, **_preview(form))
    status = 422 if form.errors or form.problems else 200
    return render(request, "partials/preview.html", ctx, status_code=status)


@router.post("/plan/compare", response_class=HTMLResponse, include_in_schema=False)
def builder_compare(request: Request, cat: CatalogueDep, posted: FormDep) -> HTMLResponse:
    """htmx: strategies side by side for the same regimen and person."""
    form = parse_form(posted, cat)
    ctx = _context(cat, form)
    if form.request is not None:
        try:
            ctx["comparison"] = planview.compare(form.request, get_knowledge(), today())
        except BenzotaperError as exc:
            form.problems.append(exc.message)
    status = 422 if form.errors or form.problems else 200
    return render(request, "partials/compare.html", ctx, status_code=status)


@router.post("/plan/save", response_class=HTMLResponse, include_in_schema=False)
def builder_save(request: Request, cat: CatalogueDep, db: DbDep, data: FormDep) -> Response:
    form = parse_form(data, cat)
    user = getattr(request.state, "user", None)
    reason = str(data.get("reason_for_change") or "").strip()[:500]
    if user is None:
        extra = _preview(form)
        if extra.get("plan") is not None and not form.errors:
            # Logged out: the plan goes with the log-in and registration forms and is saved
            # straight after (stateless; nothing is stored for someone not signed in).
            return render(request, "save_account.html", save_account_context(dump_pending(form)))
        return render(request, "builder.html", _context(cat, form, **extra), status_code=422)
    return save_or_show(request, cat, db, user, form, reason)


def save_account_context(pending: str, **extra: Any) -> dict[str, Any]:
    """The "log in or create an account to save your plan" page, carrying the plan."""
    return {
        "nav": "login",
        "pending": pending,
        "login": {"values": {}, "errors": {}, "problems": []},
        "reg": {"values": {"role": "patient"}, "errors": {}},
        **extra,
    }


def save_or_show(
    request: Request, cat: Catalogue, db: Database, user: Identity, form: PlanForm, reason: str
) -> Response:
    """Save the plan for ``user`` and go to My plan; otherwise the builder again, values kept."""
    extra = _preview(form)
    if user.role != "patient":
        form.problems.append(
            "Plans are saved in patient accounts; this is a clinician account. "
            "Your entries are kept below; you can also download the plan."
        )
    plan = extra.get("plan")
    if form.problems or form.errors or plan is None:
        return render(request, "builder.html", _context(cat, form, **extra), status_code=422)
    planview.save(db, cat, user.id, plan, reason or "Plan made in the builder")
    return RedirectResponse("/my-plan?saved=1", status_code=303)
