"""The Telecom Carrier number-inventory API: a RESTful JSON API for the DID numbers on sale."""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from service import auth, cli, cors, database, logs, problems
from service.admission import Lane
from service.asgi_adapter import REFUSAL, AsgiAdapter
from service.auth.passwords import HASHING_THREADS
from service.greenlet_bridge import BridgedFlask
from service.problems import InvalidHost
from service.settings import MAX_BODY_BYTES, Settings

#: Probes: answered whatever else is waiting, and never turned away as "busy".
PROBE_PATHS = ("/health/live", "/health/ready")
LOGIN_PATH = "/auth/token"
#: What a 503 from a full lane asks the client to wait: requests take milliseconds here.
BUSY_RETRY_AFTER_SECONDS = 1


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask application; ``settings`` defaults to the environment's."""
    settings = settings or Settings.from_env()
    app = BridgedFlask(__name__, static_folder=None)  # the docs blueprint serves its own files
    app.config.update(
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        TRUSTED_HOSTS=list(settings.trusted_hosts) or None,
    )
    # "//" is not merged into "/" by a redirect: Werkzeug would answer it with an HTML 308 built
    # from the Host header. It is simply no route (a problem+json 404).
    app.url_map.merge_slashes = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if settings.trusted_proxies:
        # Trust X-Forwarded-* only from the reverse proxies we were told are in front of us.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n
        )

    logs.init_app(app)
    app.before_request(_refuse_a_bad_host)  # before authentication: a bad Host is a 400 for all
    app.before_request(_answer_refusal)
    app.after_request(_no_content_type_without_content)
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


def create_asgi_app(settings: Settings | None = None) -> AsgiAdapter:
    """The app for an ASGI server: its database opens at lifespan startup and closes at shutdown.

    Each Hypercorn worker process builds its own, so each has its own pooled engine on its own
    event loop, and its own admission lanes.
    """
    settings = settings or Settings.from_env()
    if settings.uses_development_key:  # every worker says so, however it was started
        logging.getLogger(__name__).warning(
            "INSECURE: tokens are signed with the public development key (SECRET_KEY is unset "
            "or is that key): anyone who can reach this server can forge a supervisor's token. "
            "Set SECRET_KEY (e.g. `openssl rand -base64 48`) before anyone else can reach it."
        )
    flask_app = create_app(settings)

    async def startup() -> None:
        database.attach(flask_app, database.open_database(settings))

    async def shutdown() -> None:
        opened = database.detach(flask_app)
        if opened is not None:
            await opened.dispose()

    def lane(concurrency: int) -> Lane:
        return Lane(concurrency, settings.admission_queue, settings.admission_wait_seconds)

    # Requests: as many inside the app as the pool has connections, so they never race for one.
    # Logins: as many as there are hashing threads, so a login never waits for a hash while it
    # holds a slot, and a flood of them queues in its own lane instead of in front of reads.
    return AsgiAdapter(
        flask_app,
        max_body_bytes=MAX_BODY_BYTES,
        body_timeout_seconds=settings.body_timeout_seconds,
        startup=startup,
        shutdown=shutdown,
        default_lane=lane(settings.db_pool_size),
        lanes={LOGIN_PATH: lane(HASHING_THREADS)} | dict.fromkeys(PROBE_PATHS),
        retry_after_seconds=BUSY_RETRY_AFTER_SECONDS,
    )


def _refuse_a_bad_host() -> None:
    # Flask records an untrusted Host as the routing error; Werkzeug makes a malformed one "".
    if isinstance(request.routing_exception, SecurityError) or not request.host:
        raise InvalidHost(
            "The Host header is missing, malformed or not a name this API answers to; "
            "send the API's own host name."
        )


def _answer_refusal() -> None:
    # The ASGI adapter refused this request (a body too large or too slow, a full lane) and
    # runs the app only so that the refusal is answered in the API's one error shape.
    refusal: HTTPException | None = request.environ.get(REFUSAL)
    if refusal is not None:
        raise refusal


def _no_content_type_without_content(response: Response) -> Response:
    # Flask gives every response a text/html Content-Type, even one that has no body (a 204, a
    # 304, a plain OPTIONS). Only a HEAD keeps the Content-Type of the GET it stands for.
    empty = response.is_sequence and not response.get_data()
    if response.status_code in (204, 304) or (empty and request.method != "HEAD"):
        del response.headers["Content-Type"]
    return response
