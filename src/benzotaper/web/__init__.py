"""The web app: FastAPI + Jinja2 + htmx, served by ``benzotaper serve``."""

from benzotaper.web.app import create_app
from benzotaper.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
