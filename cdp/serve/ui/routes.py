"""The customer page's routes: sign-in, search, the profile, the GDPR export, sign-out.

Every page reads the serving store through its read API
(cdp/serve/store/protocol.py, the StoreHandle the Profile API installed), never
the warehouse, so it keeps working while a build holds the DuckDB file; only
the export reads the warehouse (cdp/serve/ui/export.py).
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from cdp.config import Settings
from cdp.serve.auth import FIELD_GROUPS, ApiError, check_token
from cdp.serve.store.protocol import ProfileStore, StoreUnavailable
from cdp.serve.ui.export import ExportBusy, ExportFailed, export_customer
from cdp.serve.ui.passwords import verify_password
from cdp.serve.ui.sessions import SESSION_COOKIE, SIGN_IN_COOKIE, Session, Signer, same_token
from cdp.serve.ui.settings import UiSettings, UiSettingsError
from cdp.serve.ui.view import profile_page

HERE = Path(__file__).resolve().parent
MAX_FORM_BYTES = 16 * 1024
MAX_QUERY = 200
TIMELINE_PAGE = 25
SEARCH_LIMIT = 25
log = logging.getLogger("cdp.serve.ui")

router = APIRouter(prefix="/ui", include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
# Pages hold personal data: never cached, never framed, no third-party anything.
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
}


class UiState:
    """What the page needs, on `app.state.ui`: its settings (or why they are unusable)."""

    def __init__(self, settings: UiSettings | None, problem: str | None) -> None:
        self.settings = settings or UiSettings()
        self.problem = problem
        self.signer = Signer(self.settings.session_secret)


def install(app: FastAPI) -> None:
    """Mount `/ui` on `app` (after the Profile API, whose store handle and tokens it reuses)."""
    try:
        state = UiState(UiSettings.from_env(), None)
    except UiSettingsError as exc:
        log.warning("customer page disabled: %s", exc)
        state = UiState(None, str(exc))
    app.state.ui = state
    app.include_router(router)


def _state(request: Request) -> UiState:
    state: UiState = request.app.state.ui
    return state


def render(
    request: Request, template: str, status: int = 200, session: Session | None = None, **data: Any
) -> HTMLResponse:
    html = _templates.get_template(template).render(session=session, path=request.url.path, **data)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def error_page(
    request: Request, status: int, title: str, message: str, session: Session | None = None
) -> HTMLResponse:
    return render(request, "error.html", status, session, title=title, message=message)


def _session(request: Request) -> Session | None:
    return _state(request).signer.session(request.cookies.get(SESSION_COOKIE))


def _sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/sign-in?next={quote(target, safe='')}", status_code=303)


def _safe_next(raw: str | None) -> str:
    """Only our own pages as the place to return to after signing in."""
    if raw and raw.startswith("/ui") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/ui"


async def _form(request: Request) -> dict[str, str] | None:
    """The URL-encoded form body (python-multipart is not installed), or None when
    it is not one or too large."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return None
    return {key: values[0] for key, values in parsed.items()}


def _store(request: Request) -> ProfileStore:
    handle = request.app.state.profile_store
    store: ProfileStore = handle.get()
    if store.build_id() is None:
        raise StoreUnavailable(
            "the store holds no build yet: run `cdp build` (or `cdp store refresh`)"
        )
    return store


def _unavailable(request: Request, exc: StoreUnavailable, session: Session | None) -> HTMLResponse:
    request.app.state.profile_store.failed()  # the next request opens the store again
    return error_page(
        request,
        503,
        "Profiles are unavailable",
        f"The profile store cannot answer: {exc.reason}. The page recovers by itself "
        "once the store is back; try again in a moment.",
        session,
    )


# -- sign-in and sign-out ---------------------------------------------------------------


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str | None = None) -> Response:
    return _sign_in_form(request, _safe_next(next), None, 200)


def _sign_in_form(request: Request, target: str, message: str | None, status: int) -> Response:
    state = _state(request)
    if state.problem:
        return error_page(request, 503, "The customer page is not configured", state.problem)
    nonce = secrets.token_urlsafe(24)
    response = render(
        request,
        "sign_in.html",
        status,
        next=target,
        nonce=nonce,
        message=message,
        has_users=bool(state.settings.users),
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        state.signer.sign({"n": nonce}),
        max_age=3600,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=state.settings.secure_cookies,
    )
    return response


def _check_password(state: UiState, user: str, password: str) -> bool:
    stored = state.settings.users.get(user)
    if stored is None:
        # spend the same time as a real check, so a probe cannot tell names apart
        verify_password(password or "x", next(iter(state.settings.users.values()), _DUMMY))
        return False
    return verify_password(password, stored)


_DUMMY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    state = _state(request)
    if state.problem:
        return error_page(request, 503, "The customer page is not configured", state.problem)
    form = await _form(request)
    if form is None:
        return error_page(request, 400, "Bad request", "The sign-in form was not sent as a form.")
    target = _safe_next(form.get("next"))
    nonce = state.signer.unsign(request.cookies.get(SIGN_IN_COOKIE)) or {}
    if not same_token(form.get("csrf"), str(nonce.get("n", ""))):
        return _sign_in_form(request, target, "The form expired; please sign in again.", 403)
    token = form.get("token", "").strip()
    if token:
        try:
            grant = check_token(
                request.app.state.access_tokens, request.app.state.rate_limiter, token, None
            )
        except ApiError as exc:
            return _sign_in_form(request, target, f"Token refused: {exc.message}.", 401)
        if not all(grant.holds(group) for group in FIELD_GROUPS):
            return _sign_in_form(
                request,
                target,
                f"Token {grant.token!r} may not open the customer page: the page shows every "
                "field group, so the token needs them all (groups: ['*']).",
                403,
            )
        user, method = f"token:{grant.token}", "token"
    else:
        user = form.get("username", "").strip()
        ok = await run_in_threadpool(_check_password, state, user, form.get("password", ""))
        if not user or not ok:
            log.info("ui sign-in refused for a user name of %d characters", len(user))
            return _sign_in_form(request, target, "Wrong user name or password.", 401)
        method = "password"
    _, cookie = state.signer.new_session(user, method, state.settings.session_hours * 3600)
    log.info("ui sign-in: %s (%s)", user, method)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(state.settings.session_hours * 3600),
        path="/ui",
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies,
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/ui")
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    session = _session(request)
    form = await _form(request) or {}
    if session is not None and not same_token(form.get("csrf"), session.csrf):
        return error_page(
            request, 403, "Forbidden", "The sign-out form expired; reload the page.", session
        )
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/ui")
    return response


# -- search and the profile ---------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def search(request: Request, q: str = "") -> Response:
    session = _session(request)
    if session is None:
        return _sign_in_redirect(request)
    text = q.strip()
    if len(text) > MAX_QUERY:
        return error_page(
            request, 400, "Search too long", f"Search for at most {MAX_QUERY} characters.", session
        )
    try:
        store = _store(request)
        build = store.build_id()
        found = store.resolve("any", text) if text else None
        if found and store.profile(found) is not None:
            return RedirectResponse(f"/ui/customers/{quote(found, safe='')}", status_code=303)
        results = store.search(text, SEARCH_LIMIT) if text else []
    except StoreUnavailable as exc:
        return _unavailable(request, exc, session)
    return render(
        request,
        "search.html",
        200,
        session,
        q=text,
        results=results,
        build_id=build,
        limit=SEARCH_LIMIT,
    )


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer(request: Request, customer_id: str, before: str | None = None) -> Response:
    session = _session(request)
    if session is None:
        return _sign_in_redirect(request)
    if not customer_id.strip() or len(customer_id) > MAX_QUERY:
        return error_page(request, 400, "Bad customer id", "That is not a customer id.", session)
    try:
        store = _store(request)
        profile = store.profile(customer_id)
        if profile is None:
            return error_page(
                request,
                404,
                "No such customer",
                f"No customer {customer_id!r} in build {store.build_id()}: it may have been "
                "merged into another, erased, or never existed. Search again.",
                session,
            )
        explain = store.explain(customer_id)
        events, next_cursor = store.events(customer_id, TIMELINE_PAGE, before or None)
        history = store.segment_history(customer_id)
    except StoreUnavailable as exc:
        return _unavailable(request, exc, session)
    except ValueError:  # a cursor the store does not recognise
        return error_page(request, 400, "Bad page", "That timeline page does not exist.", session)
    page = profile_page(profile, explain, events, history)
    return render(
        request, "profile.html", 200, session, p=page, next_cursor=next_cursor, before=before
    )


@router.post("/customers/{customer_id}/export")
async def export(request: Request, customer_id: str) -> Response:
    session = _session(request)
    if session is None:
        return _sign_in_redirect(request)
    form = await _form(request) or {}
    if not same_token(form.get("csrf"), session.csrf):
        return error_page(
            request,
            403,
            "Forbidden",
            "The export form expired; reload the page and press Export again.",
            session,
        )
    state = _state(request)
    started = time.monotonic()
    try:
        file = await run_in_threadpool(
            export_customer,
            Settings.from_env(),
            customer_id,
            f"ui:{session.user}",
            state.settings.export_wait_s,
        )
    except ExportBusy as exc:
        return error_page(
            request,
            503,
            "Export waits for the build",
            "The export reads the warehouse itself (not the profile store), and a build "
            f"holds it now: {exc}. The rest of this page keeps working; press Export again "
            "when the build has finished.",
            session,
        )
    except ExportFailed as exc:
        return error_page(
            request, 404 if "no customer" in str(exc) else 503, "Export failed", str(exc), session
        )
    log.info("ui export by %s in %.1fs", session.user, time.monotonic() - started)
    return Response(
        file.text,
        media_type="application/json",
        headers={**HEADERS, "Content-Disposition": f'attachment; filename="{file.name}"'},
    )


@router.get("/static/ui.css")
def stylesheet() -> FileResponse:
    return FileResponse(HERE / "static" / "ui.css", media_type="text/css")
