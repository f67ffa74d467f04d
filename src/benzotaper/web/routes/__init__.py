"""One router module per area of the app; pages and their JSON API sit side by side."""

from fastapi import APIRouter

from benzotaper.web.routes import catalogue, home

ROUTERS: list[APIRouter] = [home.router, catalogue.router]

__all__ = ["ROUTERS"]
