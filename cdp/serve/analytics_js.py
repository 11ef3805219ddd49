"""analytics.js served by the collector itself, from the npm package (no CDN).

`make vendor-js` installs `@segment/analytics-next` into
`cdp/serve/static/node_modules` (versions pinned in `static/package-lock.json`).
The paths mirror Segment's CDN so the standard snippet works with its `_cdn`
(or the script URL) pointing at the collector:

- `/analytics.js/v1/{writeKey}/analytics.min.js`: the standalone bundle;
- `/analytics-next/bundles/{file}`: the chunks it loads on demand;
- `/v1/projects/{writeKey}/settings`: the source settings, which point the
  Segment.io integration back at this collector (and turn client metrics off).
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from cdp.serve.settings import ServeSettings

VENDOR = Path(__file__).resolve().parent / "static" / "node_modules" / "@segment" / "analytics-next"
BUNDLES = VENDOR / "dist" / "umd"
_FILE = re.compile(r"^[A-Za-z0-9_.-]+\.js(\.map)?$")

router = APIRouter(tags=["analytics.js"])


def _missing() -> Response:
    return JSONResponse(
        {"success": False, "reason": "analytics.js is not installed: run `make vendor-js`"},
        status_code=404,
    )


@router.get("/analytics.js/v1/{write_key}/analytics.min.js", include_in_schema=False)
async def standalone(write_key: str) -> Response:
    path = BUNDLES / "standalone.js"
    if not path.is_file():
        return _missing()
    return FileResponse(path, media_type="application/javascript")


@router.get("/analytics-next/bundles/{name}", include_in_schema=False)
async def bundle(name: str) -> Response:
    path = BUNDLES / name
    if not _FILE.match(name) or not path.is_file():
        return _missing() if not BUNDLES.is_dir() else Response(status_code=404)
    return FileResponse(path, media_type="application/javascript")


@router.get("/v1/projects/{write_key}/settings")
async def source_settings(write_key: str, request: Request) -> Response:
    """Segment's CDN settings for a source, pointing its events at this collector."""
    settings: ServeSettings = request.app.state.settings
    if settings.write_keys.source_for(write_key) is None:
        return JSONResponse({"success": False, "reason": "unknown write key"}, status_code=404)
    host = f"{request.url.netloc}/v1"
    return JSONResponse(
        {
            "integrations": {
                "Segment.io": {
                    "apiKey": write_key,
                    "apiHost": host,
                    "protocol": request.url.scheme,
                    "unbundledIntegrations": [],
                    "addBundledMetadata": True,
                }
            },
            "plan": {"track": {"__default": {"enabled": True}}},
            "metrics": {"sampleRate": 0, "host": host},
            "middlewareSettings": {},
            "enabledMiddleware": {},
            "legacyVideoPluginsEnabled": False,
            "remotePlugins": [],
        }
    )
