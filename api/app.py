"""The FastAPI application: wiring only."""

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from temporalio.client import Client

from api.errors import install_error_handlers
from api.inbox_cors import InboxCors
from api.middleware import BodySizeLimit, RequestMetrics
from api.openapi import install_openapi, operation_id
from api.routes import (
    api_keys,
    broadcasts,
    codec,
    deliveries,
    devices,
    email_settings,
    health,
    inbox,
    inbox_preferences,
    inbox_settings,
    inbox_snooze,
    inbox_stream,
    inbox_widget,
    logs,
    metrics,
    notifications,
    policy_settings,
    preferences,
    push,
    recipient_tokens,
    recipients,
    scheduling,
    stats,
    templates,
    topics,
    unsubscribe,
    webhook_channel,
    webhook_endpoints,
    webhook_replay,
    webhooks,
)
from api.routes.inbox_stream import InboxStreamHandoff
from api.strict_input import refuse_unstorable_input
from bootstrap import (
    EMBEDDED_LANES,
    build_worker,
    connect_temporal,
    database,
    refuse_unfit_production,
    tune_runtime_for_the_event_loop,
)
from config.settings import Settings, get_settings
from services.auth import ApiKeyCache
from services.health import PublicHealth
from services.inbox_cache import InboxAuthCache
from services.inbox_hub import InboxHub
from web.routes import mount_dashboard


@asynccontextmanager
async def _embedded_worker(client: Client, settings: Settings, sessions):
    """A worker sharing the API's client: what makes eager workflow start possible. When the
    API stops, so does the worker, as `herald worker` does on SIGTERM: its sends in flight
    finish first (within WORKER_SHUTDOWN_GRACE_SECONDS), then its SMTP sessions are closed
    (bootstrap.build_worker). The API's engine is disposed only after that."""
    if not settings.embedded_worker:
        yield
        return
    async with build_worker(client, settings, sessions, lanes=EMBEDDED_LANES):
        yield


def create_app(settings: Settings | None = None, temporal: Client | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        refuse_unfit_production(settings)
        engine, app.state.sessions = database(settings)
        app.state.settings = settings
        app.state.api_keys = ApiKeyCache(settings.api_key_cache_seconds)
        app.state.inbox_auth = InboxAuthCache(settings.api_key_cache_seconds)  # recipient tokens
        app.state.public_health = PublicHealth()  # GET /v1/health's shared answer
        app.state.temporal = temporal or await connect_temporal(settings, sdk_metrics=False)
        try:
            async with (
                _embedded_worker(app.state.temporal, settings, app.state.sessions),
                # Live inbox streams: ended (and the listener stopped) before the worker stops.
                InboxHub(settings.database_url).running() as app.state.inbox_hub,
            ):
                tune_runtime_for_the_event_loop()
                yield
        finally:
            await app.state.api_keys.close()  # its last last_used_at stamps use the engine
            await engine.dispose()  # after the worker has stopped: its activities use the engine

    # /docs and /redoc load their scripts and styles from this package (fastapi-offline ships
    # Swagger UI and ReDoc), not a CDN: the docs work on a network without the internet.
    app = FastAPIOffline(
        static_url="/docs/assets",
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
        title="Herald",
        version="0.1.0",
        description="Notifications as durable Temporal workflows.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        # Every route: no NUL, lone surrogate, NaN or out-of-range integer reaches it.
        dependencies=[Depends(refuse_unstorable_input)],
    )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_request_bytes,
        webhook_max_bytes=settings.webhook_max_request_bytes,
    )
    app.add_middleware(RequestMetrics)
    if settings.codec_cors_origins:  # the Temporal Web UI calls the codec from the browser
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[o.strip() for o in settings.codec_cors_origins.split(",") if o.strip()],
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            allow_credentials=True,
        )
    # Outermost: a preflight is answered before anything else reads the request.
    app.add_middleware(InboxCors)
    install_error_handlers(app)
    install_openapi(app)
    for module in (
        notifications,
        deliveries,
        logs,
        recipients,
        recipient_tokens,
        devices,  # push devices: /v1/recipients/{external_id}/devices, /v1/inbox/devices
        preferences,
        policy_settings,
        email_settings,
        webhook_channel,  # /v1/settings/webhook-channel
        webhook_endpoints,  # /v1/webhook-endpoints: status webhooks' receivers
        webhook_replay,  # POST /v1/webhook-endpoints/{endpoint_id}/messages/{message_id}/replay
        inbox_settings,
        inbox_preferences,  # GET/PATCH /v1/inbox/preferences (recipient token)
        inbox_widget,  # GET /v1/inbox/widget.js (public)
        push,  # GET /v1/inbox/push/public-key, /v1/inbox/herald-sw.js (public)
        inbox_snooze,  # POST /v1/inbox/messages/{message_id}/snooze, /unsnooze (recipient token)
        inbox,  # a recipient's own inbox (recipient token)
        inbox_stream,  # GET /v1/inbox/stream
        unsubscribe,
        health,
        metrics,
        templates,
        scheduling,  # events, agendas, scheduled notifications, booking settings
        broadcasts,
        topics,  # and GET /v1/recipients/{external_id}/topics
        stats,
        webhooks,
        api_keys,
        codec,
    ):
        app.include_router(module.router)
    mount_dashboard(app, settings)  # /dashboard: the operators' pages (web/)
    # Added last, so the outermost of the app's middlewares: a live inbox stream's events are
    # written from there, once everything inside has handled its request and returned.
    app.add_middleware(InboxStreamHandoff)
    return app
