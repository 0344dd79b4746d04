"""The FastAPI application: the composition root that mounts every domain."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import bcone.models  # noqa: F401  (every table and job handler registered)
from bcone import __version__
from bcone.analytics import api as analytics_api
from bcone.analytics import web as analytics_web
from bcone.catalog import api as catalog_api
from bcone.catalog import web as catalog_web
from bcone.cdp import api as cdp_api
from bcone.cdp import web as cdp_web
from bcone.codes import api as codes_api
from bcone.codes import web as codes_web
from bcone.core import api as core_api
from bcone.core.db import Database
from bcone.core.errors import install_error_handlers
from bcone.core.settings import Settings, get_settings
from bcone.core.worker import inline_jobs_lifespan
from bcone.crm import api as crm_api
from bcone.crm import web as crm_web
from bcone.iam import api as iam_api
from bcone.iam import web as iam_web
from bcone.iam.service import authenticate_request
from bcone.ledger import api as ledger_api
from bcone.ledger import web as ledger_web
from bcone.network import api as network_api
from bcone.network import web as network_web
from bcone.promotions import api as promotions_api
from bcone.promotions import web as promotions_web
from bcone.store import api as store_api
from bcone.store import orders_api as store_orders_api
from bcone.store import orders_web as store_orders_web
from bcone.store import web as store_web
from bcone.web import api as web_api
from bcone.web import pages as web_pages
from bcone.web.deps import install_console_handlers

STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="bcone",
        version=__version__,
        description="Marketing digitalization for brands, their channel partners and consumers (F2B2C).",
        lifespan=inline_jobs_lifespan,
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.effective_database_url)
    app.state.authenticator = authenticate_request
    install_error_handlers(app)
    install_console_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(codes_web.scan_router)  # the public scan page first: the hottest route
    api_routers = (core_api.router, iam_api.router, network_api.router, catalog_api.router, web_api.router)
    domain_api = (
        ledger_api.router,
        codes_api.router,
        cdp_api.router,
        analytics_api.router,
        crm_api.router,
        promotions_api.router,
        store_api.router,
        store_orders_api.router,
    )
    for router in (*api_routers, *domain_api):
        app.include_router(router, prefix="/api/v1")
    pages = (web_pages.router, iam_web.router, network_web.router, catalog_web.router)
    domain_pages = (
        ledger_web.router,
        codes_web.router,
        cdp_web.router,
        analytics_web.router,
        crm_web.router,
        promotions_web.router,
        store_web.router,
        store_orders_web.router,
    )
    for router in (*pages, *domain_pages):
        app.include_router(router)

    @app.get("/healthz", tags=["platform"])
    def healthz() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok", "version": __version__}

    return app
