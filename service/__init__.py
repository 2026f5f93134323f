"""The Telecom Carrier number-inventory API: a RESTful JSON API for the DID numbers on sale."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from service import auth, cli, cors, logs, problems
from service.asgi_adapter import REFUSAL
from service.greenlet_bridge import BridgedFlask
from service.settings import MAX_BODY_BYTES, Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask application; ``settings`` defaults to the environment's."""
    settings = settings or Settings.from_env()
    app = BridgedFlask(__name__, static_folder=None)  # the docs blueprint serves its own files
    app.config.update(
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if settings.trusted_proxies:
        # Trust X-Forwarded-* only from the reverse proxies we were told are in front of us.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n
        )

    logs.init_app(app)
    app.before_request(_answer_refusal)
    cors.init_app(app, settings.cors_origins)
    auth.init_app(app, settings)  # after CORS: preflights are answered before any token check
    problems.init_app(app)
    cli.init_app(app)

    from service.docs import bp as docs_bp
    from service.health import bp as health_bp
    from service.numbers.views import bp as numbers_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(numbers_bp)
    app.register_blueprint(docs_bp)
    return app


def _answer_refusal() -> None:
    # The ASGI adapter refused this request (a body too large or too slow, a full lane) and
    # runs the app only so that the refusal is answered in the API's one error shape.
    refusal: HTTPException | None = request.environ.get(REFUSAL)
    if refusal is not None:
        raise refusal
