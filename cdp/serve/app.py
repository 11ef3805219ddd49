"""The `cdp serve` application: one FastAPI app, one router per area.

`collect` (the Tracking API) and `analytics_js` (the browser library) are
mounted here; the profile API and the customer page add their routers the
same way. State lives on `app.state` (settings, spool, listeners), created per
app: no module-level mutable state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from cdp.serve import analytics_js, collect, profiles, ui
from cdp.serve.collect import IdentifyListener
from cdp.serve.profiles.store_api import StoreOpener
from cdp.serve.settings import ServeSettings
from cdp.serve.spool import Spool


def create_app(
    settings: ServeSettings,
    identify_listeners: Sequence[IdentifyListener] = (),
    profile_store: StoreOpener | None = None,
) -> FastAPI:
    spool = Spool(
        settings.spool_dir,
        settings.landing_dir,
        roll_seconds=settings.roll_seconds,
        roll_bytes=settings.roll_bytes,
        max_pending_bytes=settings.max_pending_bytes,
        min_free_bytes=settings.min_free_bytes,
        dedupe_ids=settings.dedupe_ids,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        spool.start()  # recovers what a crash left in the spool
        try:
            yield
        finally:
            spool.close()  # syncs and rolls the active segment

    app = FastAPI(title="cdp serve", lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.settings = settings
    app.state.spool = spool
    app.state.identify_listeners = list(identify_listeners)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Content-Encoding", "X-Retry-Count"],
        max_age=86400,
    )
    app.router.routes.extend(collect.routes)
    app.include_router(collect.router)
    app.include_router(analytics_js.router)
    profiles.install(app, settings, profile_store)  # the Profile API (docs/profiles.md)
    ui.install(app)  # the customer page /ui (docs/ui.md), on the Profile API's store and tokens

    @app.get("/health", tags=["service"])
    async def health() -> JSONResponse:
        stats = spool.stats
        return JSONResponse(
            {
                "status": "disk full" if spool.disk_full() else "ok",
                "sources": settings.write_keys.sources,
                "events_written": stats.events_written,
                "syncs": stats.syncs,
                "segments_rolled": stats.segments_rolled,
                "duplicates": stats.duplicates,
                "pending_bytes": stats.pending_bytes,
            }
        )

    return app
