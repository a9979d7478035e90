"""`newsletter serve`: the readers' side (one-click unsubscribe, preferences, double opt-in
sign-up). ``build_app`` makes the Starlette app; ``server.serve`` runs it with uvicorn."""
from newsletter.web.app import build_app

__all__ = ["build_app"]
