"""One router module per area of the app; pages and their JSON API sit side by side."""

from fastapi import APIRouter

from benzotaper.web.routes import accounts, catalogue, clinician, home, learn, myplan

ROUTERS: list[APIRouter] = [
    home.router,
    accounts.router,
    catalogue.router,
    learn.router,
    myplan.router,
    clinician.router,
]

__all__ = ["ROUTERS"]
