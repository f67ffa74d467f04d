"""Jinja2 templates: one environment, with the context every page needs (user, CSRF, nav)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import BytecodeCache, FileSystemBytecodeCache, pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.responses import HTMLResponse

from benzotaper import __version__
from benzotaper.lru import LRU
from benzotaper.web import flash
from benzotaper.web.clock import now_in, zone_names
from benzotaper.web.dates import (
    DEFAULT_LOCALE,
    date_range,
    date_time,
    long_date,
    negotiate,
    short_date,
)

TEMPLATE_DIR = Path(str(resources.files("benzotaper.web") / "templates"))
STATIC_DIR = Path(str(resources.files("benzotaper.web") / "static"))


def _bytecode_cache() -> BytecodeCache | None:
    """Compiled templates kept between processes, in a private per-user temporary directory
    (Jinja's default: mode 0700, owner checked) and checked against each template's source:
    a new worker or test process does not compile forty templates again (half a second)."""
    try:
        return FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no usable temporary directory: compile in memory only
        return None


templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.bytecode_cache = _bytecode_cache()
# A template is loaded once per process and not checked against its file again on every page
# (a stat per template per page); a changed template takes effect when the server restarts.
templates.env.auto_reload = False
templates.env.globals["version"] = __version__
templates.env.globals["time_zones"] = zone_names


def _num(x: float | None) -> str:
    """Doses as people write them: 0.5, 2, 12.5 (no trailing zeros)."""
    return "" if x is None else f"{x:g}"


def _local(ctx: Context, moment: dt.datetime) -> dt.datetime:
    """A stored (UTC) moment on the reader's own clock."""
    user = ctx.get("user")
    return now_in(user.time_zone if user is not None else None, moment)


@pass_context
def _date(ctx: Context, d: dt.date | dt.datetime | None) -> str:
    """A date in the reader's locale (a moment: its date on the reader's clock)."""
    if isinstance(d, dt.datetime):
        d = _local(ctx, d).date() if d.tzinfo else d.date()
    return long_date(d, ctx.get("locale") or DEFAULT_LOCALE)


@pass_context
def _moment(ctx: Context, moment: dt.datetime) -> str:
    """Date and time on the reader's clock, in their locale: "Mon, Nov 30, 2026, 10:15"."""
    local = _local(ctx, moment) if moment.tzinfo else moment
    return date_time(local, ctx.get("locale") or DEFAULT_LOCALE)


@pass_context
def _short(ctx: Context, d: dt.date | None) -> str:
    return short_date(d, ctx.get("locale") or DEFAULT_LOCALE)


@pass_context
def _range(ctx: Context, start: dt.date, end: dt.date) -> str:
    return date_range(start, end, ctx.get("locale") or DEFAULT_LOCALE)


def _form_token() -> Markup:
    """A fresh one-time token for a form: a double submit (or a retry after a lost answer) is
    stored once (web.idempotency)."""
    from benzotaper.web.security import new_token

    return Markup(f'<input type="hidden" name="form_token" value="{new_token()}">')


#: Policy: rendered saved plans kept per process (a version, a locale, a step in force).
SAVED_PLANS_KEPT = 256
_SAVED_PLANS: LRU[tuple[str, ...], Markup] = LRU(SAVED_PLANS_KEPT)
#: Policy: rendered builder previews kept per process (as ``planview.PROPOSALS_KEPT``).
PROPOSED_PLANS_KEPT = 64
_PROPOSED_PLANS: LRU[tuple[str, ...], Markup] = LRU(PROPOSED_PLANS_KEPT)


def _plan_html(
    kept: LRU[tuple[Any, ...], Markup],
    key: tuple[str, ...],
    locale: str,
    values: dict[str, Any],
    keep: bool = True,
) -> Markup:
    """``partials/plan_view.html`` for ``values``, rendered once per ``key`` (which names
    everything the page shows from them) and the reader's locale (unless not ``keep``)."""

    def render() -> str:
        part = templates.env.get_template("partials/plan_view.html")
        return part.render({"locale": locale, **values})

    return _kept(kept, (*key, locale), render) if keep else Markup(render())


@pass_context
def _saved_plan(ctx: Context, record: Any, view: Any, heading: str) -> Markup:
    """A saved plan version as ``partials/plan_view.html`` shows it, rendered once per version,
    reader's locale, step in force and chart link: a saved version never changes, and its
    two-year schedule is most of a plan page's rendering time."""
    key = (record.uid, str(view.current_index), str(view.chart), heading)
    values = {"plan": record.plan, "view": view, "cat": ctx["cat"], "heading": heading}
    return _plan_html(_SAVED_PLANS, key, ctx.get("locale") or DEFAULT_LOCALE, values)


@pass_context
def _proposed_plan(ctx: Context, proposal: Any) -> Markup:
    """The builder's preview of a plan (``planview.Proposal``) with its Save buttons, rendered
    once per proposal key (day, chart link, request) and locale: people typing into the
    builder send the same form again and again."""
    values = {"plan": proposal.plan, "view": proposal.view, "cat": ctx["cat"], "saving": True}
    locale = ctx.get("locale") or DEFAULT_LOCALE
    return _plan_html(_PROPOSED_PLANS, (proposal.key,), locale, values, proposal.kept)


#: Policy: rendered lists of journal entries kept per process (a person's two weeks, a locale).
ENTRY_LISTS_KEPT = 512
_ENTRY_LISTS: LRU[tuple[Any, ...], Markup] = LRU(ENTRY_LISTS_KEPT)


@pass_context
def _entry_list(
    ctx: Context, name: str, entries: Sequence[Any], *variant: Any, caller: Callable[[], str]
) -> Markup:
    """``{% call entry_list(name, entries, ...) %}...{% endcall %}``: the block (a list of
    journal entries, ``name`` saying which) rendered once per list of entries, ``variant``
    values and reader's locale. Keyed by the entries' uids: a stored entry never changes (a
    correction or a retraction is a new revision with its own uid), so a list of the same uids
    always reads the same, in every worker. The block may use only the entries, the locale and
    the ``variant`` values."""
    key = (name, ctx.get("locale") or DEFAULT_LOCALE, variant, *(e.uid for e in entries))
    return _kept(_ENTRY_LISTS, key, caller)


#: Policy: other rendered blocks kept per process (``fragment``).
FRAGMENTS_KEPT = 64
_FRAGMENTS: LRU[tuple[Any, ...], Markup] = LRU(FRAGMENTS_KEPT)


@pass_context
def _fragment(
    ctx: Context, name: str, *key: Any, keep: bool = True, caller: Callable[[], str]
) -> Markup:
    """``{% call fragment(name, key..., keep=...) %}...{% endcall %}``: the block rendered once
    per ``name``, ``key`` values and reader's locale while ``keep`` (else each time). ``key``
    must name everything the block shows that is not the same for every reader (no tokens:
    a form's one-time token stays outside the block)."""
    if not keep:
        return Markup(caller())
    return _kept(_FRAGMENTS, (name, ctx.get("locale") or DEFAULT_LOCALE, *key), caller)


def _kept(
    kept: LRU[tuple[Any, ...], Markup], key: tuple[Any, ...], caller: Callable[[], str]
) -> Markup:
    """The block ``caller`` renders, rendered once per ``key`` while ``kept`` holds it."""
    html = kept.get(key)
    if html is None:
        html = Markup(caller())
        kept.put(key, html)
    return html


@functools.lru_cache(maxsize=64)
def _options(low: int, high: int, chosen: str) -> Markup:
    return Markup(
        "".join(
            f'<option value="{n}"{" selected" if chosen == str(n) else ""}>{n}</option>'
            for n in range(low, high + 1)
        )
    )


def _number_options(low: int, high: int, chosen: object) -> Markup:
    """The ``<option>``s ``low``..``high`` of a rating ``<select>``, the one equal to ``chosen``
    (the form's value, a string) selected. Made once per range and choice: the journal page has
    a dozen such selects of 11 options, which were most of its rendering time."""
    numbers = [str(n) for n in range(low, high + 1)]
    return _options(low, high, chosen if isinstance(chosen, str) and chosen in numbers else "")


templates.env.globals["form_token"] = _form_token
templates.env.globals["number_options"] = _number_options
templates.env.globals["saved_plan"] = _saved_plan
templates.env.globals["proposed_plan"] = _proposed_plan
templates.env.globals["entry_list"] = _entry_list
templates.env.globals["fragment"] = _fragment
templates.env.filters["num"] = _num
templates.env.filters["daterange"] = _range
templates.env.filters["moment"] = _moment
templates.env.filters["longdate"] = _date
templates.env.filters["shortdate"] = _short


def compile_all() -> None:
    """Compile (or load from the bytecode cache) every template now, so that no person's first
    page after a start waits for it."""
    for name in templates.env.list_templates(extensions=["html"]):
        templates.env.get_template(name)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page with the signed-in user and the CSRF token every form needs."""
    ctx: dict[str, Any] = {
        "user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "locale": negotiate(request.headers.get("accept-language", "")[:200]),
    }
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    flash.clear(request, response)
    return response
