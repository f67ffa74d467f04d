"""A patient's own plan: today's doses, this week, the calendar, progress, holds."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from benzotaper.web.deps import PatientDep
from benzotaper.web.templating import render

router = APIRouter()


@router.get("/my-plan", response_class=HTMLResponse, include_in_schema=False)
def my_plan(request: Request, user: PatientDep) -> HTMLResponse:
    return render(request, "my_plan.html", {"nav": "myplan", "plan": None})
