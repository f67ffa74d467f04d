"""ASGI entry point for uvicorn workers: ``uvicorn benzotaper.web.asgi:app`` also works."""

from benzotaper.web.app import create_app

app = create_app()
