"""One router module per area of the app; pages and their JSON API sit side by side."""

from fastapi import APIRouter

from benzotaper.web.routes import (
    account_manage,
    accounts,
    api_journal,
    api_plans,
    builder,
    catalogue,
    cds,
    charts,
    clinician,
    home,
    journal,
    learn,
    measures,
    myplan,
    pwa,
    smart,
    today,
)

ROUTERS: list[APIRouter] = [
    home.router,
    accounts.router,
    account_manage.router,
    catalogue.router,
    learn.router,
    builder.router,
    today.router,
    myplan.router,
    charts.router,
    pwa.router,
    journal.router,
    clinician.router,
    measures.router,
    api_plans.router,
    api_journal.router,
    cds.router,
    smart.router,
]

__all__ = ["ROUTERS"]
