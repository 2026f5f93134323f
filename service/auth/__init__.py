"""Authentication and roles: supervisors manage the numbers, viewers read them, nobody else gets in.

Modules, one concern each: ``passwords`` (hashing), ``tokens`` (signing), ``users`` (queries),
``cache`` (user rows per worker), ``throttle`` (brute force), ``protection`` (the default-deny
hook and ``@public``), ``views`` (``POST /auth/token``).
"""

from __future__ import annotations

from flask import Flask

from service.auth import protection
from service.auth.protection import public
from service.settings import Settings

__all__ = ["init_app", "public"]


def init_app(app: Flask, settings: Settings) -> None:
    """Protect every route and add the login endpoint (call after CORS is set up)."""
    from service.auth.views import bp

    protection.init_app(app, settings)
    app.register_blueprint(bp)
